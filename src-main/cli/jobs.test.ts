import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempFolder } from '../testing';

// `isoflop sweep --jobs N`, the real binary: N processes share one sweep's runs through the runs' locks.
const bin = fileURLToPath(new URL('../../bin/isoflop.js', import.meta.url));
const folder = tempFolder();
afterAll(() => folder.cleanup());

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('isoflop sweep --jobs', () => {
  it('trains a sweep with two processes, each run once, and prints one summary', async () => {
    const store = join(folder.dir, 'store');
    // Runs of a second or more each, so the job process (which starts cold) has runs left to claim.
    const result = await run([
      'sweep',
      '--demo',
      'teacher',
      '--budgets',
      '1e7,3e7',
      '--sizes',
      '3',
      '--jobs',
      '2',
      '--json',
      '--store',
      store,
    ]);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toContain('Training with 2 processes');
    // The second process took runs of its own.
    expect(result.err).toMatch(/\[job 2\] \[\d+\/\d+\] /);
    const summary = JSON.parse(result.out) as { runs: Array<{ id: string; status: string }> };
    expect(summary.runs.length).toBeGreaterThanOrEqual(4);
    expect(summary.runs.every((r) => r.status === 'completed')).toBe(true);
    // Each run trained once, from step 0 to its end: one start in its log, and no lock left behind.
    for (const { id } of summary.runs) {
      const record = JSON.parse(readFileSync(join(store, 'runs', id, 'run.json'), 'utf8'));
      expect(record.log.filter((entry: { message: string }) => /^Resumed/.test(entry.message))).toEqual([]);
      expect(readdirSync(join(store, 'runs', id))).not.toContain('lock');
    }
  }, 180_000);

  it('refuses --jobs with --shard, which split the runs two ways', async () => {
    const result = await run([
      'sweep',
      '--resume',
      'sweep-x',
      '--jobs',
      '2',
      '--shard',
      '0/2',
      '--store',
      join(folder.dir, 'other'),
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('--jobs and --shard split the runs two ways');
  });
});
