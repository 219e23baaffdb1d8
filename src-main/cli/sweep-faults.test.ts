import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempFolder } from '../testing';

// The real binary, killed with SIGKILL mid-sweep: nothing it finished may be lost, and the sweep resumes.
const bin = fileURLToPath(new URL('../../bin/isoflop.js', import.meta.url));
const folder = tempFolder();
afterAll(() => folder.cleanup());

function cli(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 180_000 });
}

function runStates(store: string): Array<{ id: string; status: string; checkpoints: boolean }> {
  const root = join(store, 'runs');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => !name.startsWith('.'))
    .map((id) => {
      try {
        const run = JSON.parse(readFileSync(join(root, id, 'run.json'), 'utf8'));
        // A checkpoint counts once it is whole: run.json names its step only after it is saved.
        return { id, status: run.status as string, checkpoints: run.lastCheckpointStep != null };
      } catch {
        return { id, status: 'unreadable', checkpoints: false };
      }
    });
}

/** Imports a CSV of `rows` rows (one line of text each, after `header`) into `store` with the real binary. */
function importTable(store: string, name: string, header: string, rows: string[]): string {
  const csv = join(folder.dir, `${name}.csv`);
  writeFileSync(csv, `${header}\n${rows.join('\n')}\n`);
  const imported = cli('datasets', 'import', csv, '--store', store, '--json');
  expect(imported.status, imported.stderr).toBe(0);
  return JSON.parse(imported.stdout).id;
}

/** Two features and a smooth target, the same each call. */
const smoothRows = (count: number) =>
  Array.from({ length: count }, (_, i) => `${Math.sin(i)},${Math.cos(i * 0.3)},${Math.sin(i) * Math.cos(i)}`);

describe('isoflop sweep under kill -9', () => {
  it('keeps completed runs intact, and --resume finishes the killed one from its checkpoint', async () => {
    const store = join(folder.dir, 'data');
    const datasetId = importTable(
      store,
      'table',
      'a,b,c,y',
      Array.from(
        { length: 3000 },
        (_, i) => `${Math.sin(i)},${Math.cos(i * 0.3)},${(i % 50) / 25 - 1},${Math.sin(i) * Math.cos(i * 0.3)}`,
      ),
    );

    const child: ChildProcess = spawn(
      process.execPath,
      [
        bin,
        'sweep',
        '--dataset',
        datasetId,
        '--budgets',
        '3e6,1e7',
        '--sizes',
        '3',
        '--backend',
        'cpu',
        // One process: the kill below catches its one running run (jobs.test.ts kills a --jobs sweep).
        '--jobs',
        '1',
        '--store',
        store,
      ],
      { stdio: 'ignore' },
    );
    const started = Date.now();
    let killedWhile: Array<{ id: string; status: string; checkpoints: boolean }> = [];
    while (Date.now() - started < 120_000) {
      const states = runStates(store);
      if (states.some((s) => s.status === 'completed') && states.some((s) => s.status === 'running' && s.checkpoints)) {
        child.kill('SIGKILL');
        killedWhile = states;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (child.exitCode === null && child.signalCode === null)
      await new Promise((resolve) => child.once('exit', resolve));
    expect(killedWhile.length).toBeGreaterThan(0);

    const after = runStates(store);
    const killed = after.find((s) => s.status === 'running');
    expect(killed).toBeDefined();
    for (const done of killedWhile.filter((s) => s.status === 'completed')) {
      expect(after.find((s) => s.id === done.id)?.status).toBe('completed');
    }
    // Every metrics line but possibly a torn last one still parses.
    const metricsFile = join(store, 'runs', killed?.id as string, 'metrics.jsonl');
    const metricLines = readFileSync(metricsFile, 'utf8').split('\n').filter(Boolean);
    expect(metricLines.slice(0, -1).every((line) => JSON.parse(line).step > 0)).toBe(true);

    const sweepId = String(killed?.id).replace(/-r\d+$/, '');
    const resumed = cli('sweep', '--resume', sweepId, '--backend', 'cpu', '--store', store, '--json');
    expect(resumed.status, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.runs.every((run: { status: string }) => run.status === 'completed')).toBe(true);
    const steps = readFileSync(metricsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).step);
    expect(new Set(steps).size).toBe(steps.length);
    // The killed run's log says where it took up again.
    const record = JSON.parse(readFileSync(join(store, 'runs', killed?.id as string, 'run.json'), 'utf8'));
    expect(record.log.map((entry: { message: string }) => entry.message)).toEqual([
      expect.stringMatching(/^Resumed on cpu from its checkpoint at step \d+\.$/),
    ]);
  }, 240_000);
});

describe('two isoflop processes on one store', () => {
  it('train each run of one plan exactly once between them, and both finish', async () => {
    const store = join(folder.dir, 'shared');
    const datasetId = importTable(store, 'pair', 'a,b,y', smoothRows(2000));
    const planned = cli(
      'sweep',
      '--dataset',
      datasetId,
      '--budgets',
      '2e6,6e6',
      '--sizes',
      '3',
      '--plan-only',
      '--json',
      '--store',
      store,
    );
    expect(planned.status, planned.stderr).toBe(0);
    const planFile = join(folder.dir, 'plan.json');
    writeFileSync(planFile, planned.stdout);
    // The same plan, no shards: both processes go through every run, and the run locks keep them apart.
    const start = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [
          bin,
          'sweep',
          '--plan',
          planFile,
          '--backend',
          'cpu',
          '--store',
          store,
          '--json',
        ]);
        let out = '';
        let err = '';
        child.stdout?.on('data', (chunk) => {
          out += chunk;
        });
        child.stderr?.on('data', (chunk) => {
          err += chunk;
        });
        child.once('exit', (code) => resolve({ code, out, err }));
      });
    const [first, second] = await Promise.all([start(), start()]);
    expect(first.code, first.err).toBe(0);
    expect(second.code, second.err).toBe(0);
    const states = runStates(store);
    expect(states).toHaveLength(6);
    expect(states.every((s) => s.status === 'completed')).toBe(true);
    // A run trained twice would hold each evaluation twice, or restarted ones out of order.
    for (const { id } of states) {
      const steps = readFileSync(join(store, 'runs', id, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).step as number);
      expect(new Set(steps).size, id).toBe(steps.length);
      for (let i = 1; i < steps.length; i++) expect(steps[i], id).toBeGreaterThan(steps[i - 1] as number);
    }
    // One sweep between them, whose runs are these six.
    expect(JSON.parse(first.out).sweepId).toBe(JSON.parse(second.out).sweepId);
  }, 240_000);
});

describe('isoflop tune under kill -9', () => {
  it('--resume goes on with the study: the killed trial resumes from its checkpoint, none is trained twice', async () => {
    const store = join(folder.dir, 'tune');
    const datasetId = importTable(store, 'tune', 'a,b,y', smoothRows(3000));
    const space = join(folder.dir, 'tune-space.json');
    writeFileSync(space, JSON.stringify({ width: { type: 'int', min: 16, max: 64 } }));
    const child: ChildProcess = spawn(
      process.execPath,
      [
        bin,
        'tune',
        '--dataset',
        datasetId,
        '--space',
        space,
        '--sampler',
        'random',
        '--trials',
        '3',
        '--steps',
        '2000',
        '--pruner',
        'none',
        '--store',
        store,
      ],
      { stdio: 'ignore' },
    );
    const started = Date.now();
    let killed = false;
    while (Date.now() - started < 150_000) {
      const states = runStates(store);
      if (states.some((s) => s.status === 'running' && s.checkpoints)) {
        child.kill('SIGKILL');
        killed = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (child.exitCode === null && child.signalCode === null)
      await new Promise((resolve) => child.once('exit', resolve));
    expect(killed).toBe(true);
    const studyId = readdirSync(join(store, 'studies'))[0] as string;
    const resumed = cli('tune', '--resume', studyId, '--store', store, '--json');
    expect(resumed.status, resumed.stderr).toBe(0);
    const study = JSON.parse(resumed.stdout);
    expect(study.trials).toHaveLength(3);
    expect(study.trials.every((t: { state: string }) => t.state === 'complete')).toBe(true);
    for (const trial of study.trials as Array<{ runId: string }>) {
      const steps = readFileSync(join(store, 'runs', trial.runId, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).step as number);
      expect(new Set(steps).size, trial.runId).toBe(steps.length);
      expect(Math.max(...steps), trial.runId).toBe(2000);
    }
  }, 240_000);
});
