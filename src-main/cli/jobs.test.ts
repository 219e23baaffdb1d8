import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempFolder } from '../testing';
import { cli, isoflopProcess, tableStore } from './cli-fixture';
import { autoJobs, jobsFor, processBytes } from './jobs';

// `isoflop sweep --jobs N`, the real binary: N processes share one sweep's runs through the runs' locks.
const folder = tempFolder();
afterAll(() => folder.cleanup());

describe('isoflop sweep --jobs', () => {
  it('trains a sweep with two processes, each run once, and prints one summary', async () => {
    const store = join(folder.dir, 'store');
    // Runs of a second or more each, so the job process (which starts cold) has runs left to claim.
    const result = await isoflopProcess([
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

  it('by default trains one run per core on the CPU, as many as memory holds, and one at a time on a GPU', () => {
    const machine = { backend: 'wasm' as const, cores: 4, freeBytes: 64e9, runBytes: 100e6, runs: 10 };
    expect(autoJobs(machine)).toEqual({
      jobs: 4,
      why: 'wasm: 4 cores, memory for 102, 10 runs to train; --jobs N to choose',
    });
    expect(autoJobs({ ...machine, cores: 32 }).jobs).toBe(8);
    expect(autoJobs({ ...machine, runs: 3 }).jobs).toBe(3);
    // 80% of the free memory, over what one process takes with the largest run's tensors.
    expect(autoJobs({ ...machine, freeBytes: (2.5 * (processBytes + 100e6)) / 0.8 }).jobs).toBe(2);
    expect(autoJobs({ ...machine, freeBytes: 1e8 }).jobs).toBe(1);
    expect(autoJobs({ ...machine, backend: 'webgpu' })).toEqual({
      jobs: 1,
      why: 'one GPU, on which runs would take turns; --jobs N to share it',
    });
    // --jobs, then ISOFLOP_JOBS, decide before the machine does.
    expect(jobsFor(3, { ISOFLOP_JOBS: '5' }, 'webgpu', [])).toEqual({ jobs: 3, why: null });
    expect(jobsFor(undefined, { ISOFLOP_JOBS: '5' }, 'wasm', [])).toEqual({ jobs: 5, why: null });
    expect(jobsFor(undefined, { ISOFLOP_JOBS: 'auto' }, 'wasm', []).jobs).toBe(1); // no runs left
    expect(() => jobsFor(undefined, { ISOFLOP_JOBS: 'many' }, 'wasm', [])).toThrow(
      'ISOFLOP_JOBS=many: give a whole number from 1 to 64, or auto',
    );
  });

  it.runIf(process.platform === 'linux' && availableParallelism() >= 2)(
    'ends its job processes when the command is killed with -9, and the sweep resumes to the end',
    async () => {
      const store = join(folder.dir, 'killed');
      const bin = fileURLToPath(new URL('../../bin/isoflop.js', import.meta.url));
      const { ISOFLOP_JOBS: _, ...env } = process.env;
      // No --jobs: one process per core here.
      const child = spawn(
        process.execPath,
        // Largest budget first with several processes: the job's first run is one of 3e8's, 10 s or more here.
        [bin, 'sweep', '--demo', 'teacher', '--budgets', '1e7,3e8', '--sizes', '3', '--store', store],
        { env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (chunk) => {
        err += chunk;
      });
      const deadline = Date.now() + 120_000;
      while (!/\[job 2\] \[\d+\/\d+\] /.test(err) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(err).toMatch(
        /Training with \d+ processes \(wasm: \d+ cores, memory for \d+, 6 runs to train; --jobs N to choose\)/,
      );
      expect(err).toMatch(/\[job 2\] \[\d+\/\d+\] /);
      expect(err).toContain('Largest budget first, so that the longest runs start early');
      const sweepId = err.match(/Sweep (\S+):/)?.[1] as string;
      child.kill('SIGKILL');
      // Every process training this store ends within seconds, not after its run (nor at its next line
      // of output, which would fail with the command's end of the pipe gone).
      const training = () =>
        readdirSync('/proc')
          .filter((pid) => /^\d+$/.test(pid))
          .filter((pid) => {
            try {
              return readFileSync(join('/proc', pid, 'cmdline'), 'utf8').includes(store);
            } catch {
              return false;
            }
          });
      const gone = Date.now() + 4_000;
      while (training().length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(training()).toEqual([]);
      const resumed = await isoflopProcess(['sweep', '--resume', sweepId, '--jobs', '1', '--json', '--store', store]);
      expect(resumed.code, resumed.err).toBe(0);
      const summary = JSON.parse(resumed.out) as { runs: Array<{ status: string }> };
      expect(summary.runs).toHaveLength(6);
      expect(summary.runs.every((r) => r.status === 'completed')).toBe(true);
    },
    300_000,
  );

  it('cv --jobs 2 trains the folds in two processes, each fold once; runs train trains no run twice', async () => {
    const { data, id } = await tableStore('two', 3000);
    const result = await isoflopProcess([
      'cv',
      '--dataset',
      id,
      '--k',
      '4',
      '--steps',
      '600',
      '--width',
      '32',
      '--jobs',
      '2',
      '--json',
      '--store',
      data,
    ]);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toContain('Training with 2 processes: this one and 1 more.');
    // The job process trained folds of its own, and said which.
    expect(result.err).toMatch(/\[job 2\] \[\d\/4\] .*: completed \d/);
    const summary = JSON.parse(result.out) as { cvId: string; completed: number; k: number };
    expect(summary).toMatchObject({ k: 4, completed: 4 });
    const folds = readdirSync(join(data, 'runs')).filter((name) => name.startsWith(summary.cvId));
    expect(folds).toHaveLength(4);
    for (const fold of folds) {
      const record = JSON.parse(readFileSync(join(data, 'runs', fold, 'run.json'), 'utf8'));
      expect(record.status).toBe('completed');
      expect(record.log.filter((entry: { message: string }) => /^(Resumed|Started again)/.test(entry.message))).toEqual(
        [],
      );
      expect(readdirSync(join(data, 'runs', fold))).not.toContain('lock');
    }
    // `runs train` on finished runs trains nothing and says so; on an unknown id it names it.
    const again = await cli('runs', 'train', folds[0] as string, '--store', data);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/^\[1\/1\] .*: already completed$/);
    const unknown = await cli('runs', 'train', 'no-such-run', '--store', data);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('no-such-run');
  }, 180_000);

  it('tune --jobs 2 trains a TPE study in two processes, each trial once, none lost', async () => {
    const { folder, data, id } = await tableStore('two', 3000);
    const space = join(folder.dir, 'space.json');
    writeFileSync(
      space,
      JSON.stringify({ learningRate: { type: 'log', min: 1e-3, max: 1e-1 }, width: { type: 'int', min: 4, max: 32 } }),
    );
    // 12 trials: TPE's 10 random ones, then two proposed while others still train.
    const args = ['tune', '--dataset', id, '--space', space, '--sampler', 'tpe', '--trials', '12', '--steps', '150'];
    const result = await isoflopProcess([...args, '--pruner', 'none', '--jobs', '2', '--json', '--store', data]);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toContain(
      'Training with 2 processes: this one and 1 more, each taking the next trial none has.',
    );
    // The job process trained trials of its own, and said which.
    expect(result.err).toMatch(/\[job 2\] trial \d+\/12: complete \d/);
    const study = JSON.parse(result.out) as {
      studyId: string;
      trials: Array<{ number: number; runId: string; state: string }>;
    };
    expect(study.trials.map((t) => t.number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(study.trials.every((t) => t.state === 'complete')).toBe(true);
    for (const trial of study.trials) {
      const folderOf = join(data, 'runs', trial.runId);
      const record = JSON.parse(readFileSync(join(folderOf, 'run.json'), 'utf8'));
      expect(record.status).toBe('completed');
      expect(record.log.filter((entry: { message: string }) => /^(Resumed|Started again)/.test(entry.message))).toEqual(
        [],
      );
      expect(readdirSync(folderOf)).not.toContain('lock');
    }
    expect(readdirSync(join(data, 'studies', study.studyId))).toEqual(['study.json']);
  }, 180_000);

  it('refuses --jobs with --shard, which split the runs two ways', async () => {
    const result = await isoflopProcess([
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
