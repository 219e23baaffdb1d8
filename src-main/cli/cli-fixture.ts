import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { tempFolder } from '../testing';
import { runCli } from './main';

/** For CLI tests: the CLI run in-process with its output captured, and temp folders removed after each test. */

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A temp folder that is removed after the test. */
export function testFolder(): ReturnType<typeof tempFolder> {
  const folder = tempFolder();
  cleanups.push(folder.cleanup);
  return folder;
}

export function cli(...argv: string[]) {
  return cliWith({}, ...argv);
}

/**
 * The CLI with these environment variables. A sweep trains in this process alone (ISOFLOP_JOBS=1) unless
 * they say otherwise: job processes are the built binary's, tested in jobs.test.ts.
 */
export async function cliWith(env: NodeJS.ProcessEnv, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    rendererDir: '/nonexistent',
    env: { ISOFLOP_JOBS: '1', ...env },
    untilStopped: () => Promise.resolve(),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A 3-column CSV (two features and a label) imported into a fresh store. */
export async function tableStore(classes: 'two' | 'one' = 'two', rows = 600) {
  const folder = testFolder();
  const csv = join(folder.dir, 'table.csv');
  const lines = Array.from({ length: rows }, (_, i) => {
    const [a, b] = [Math.sin(i), Math.cos(i * 0.7)];
    return `${a.toFixed(4)},${b.toFixed(4)},${classes === 'one' || a * b > 0 ? 'up' : 'down'}`;
  });
  writeFileSync(csv, `a,b,label\n${lines.join('\n')}\n`);
  const data = join(folder.dir, 'data');
  const imported = JSON.parse((await cli('datasets', 'import', csv, '--store', data, '--json')).out);
  return { folder, data, id: imported.id as string };
}

/** The built CLI (bin/isoflop.js) in a process of its own, with these extra environment variables. */
export function isoflopProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const bin = fileURLToPath(new URL('../../bin/isoflop.js', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}
