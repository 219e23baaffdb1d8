import { spawn } from 'node:child_process';
import { availableParallelism, freemem } from 'node:os';
import { join } from 'node:path';
import type { BackendName, RunRecord } from '../../src-shared/contract';
import { runTensorBytes } from '../../src-shared/engine/memory';
import { familyOf } from '../../src-shared/engine/models/families';
import { isFinal } from '../../src-shared/engine/session/run-status';
import type { App } from '../api';
import { type NodeBackendPreference, setWasmThreads } from '../training/node-backends';
import { executeClaimedRun } from '../training/run-executor';
import { defaultWasmThreads } from '../training/wasm-threads';
import { type CliIo, UsageError } from './command';
import { installedFile } from './installed';

/**
 * `--jobs N`: N processes train a sweep's runs (a cross-validation's folds, a study's trials) at once. The
 * command's own process is one of them; the other N-1 are `isoflop sweep --resume ID --worker` (`isoflop runs
 * train ID... --worker` for folds, `isoflop tune --resume ID --worker` for trials) on the same data folder. Each takes the next run no
 * process has claimed (the run's lock decides), so a slow run never holds up the rest, and a process that
 * crashes or is killed changes nothing for the others: its run keeps a dead lock, which the last pass of
 * the command's own process resumes from its checkpoint.
 */

/** What a training process holds beyond its run's tensors: Node, tfjs, the WASM module and its heap's slack. */
export const processBytes = 400e6;

/**
 * How many runs to train at once when --jobs is not given (nor ISOFLOP_JOBS): on WASM and the CPU one
 * process per core (each then computes on one thread: a sweep's small models gain more from running side
 * by side than from threads), as many as 80% of the free memory holds with the largest run's tensors, never
 * more than the runs left; on a GPU one, since the runs would take turns on it anyway.
 */
export function autoJobs(machine: {
  backend: BackendName;
  cores: number;
  freeBytes: number;
  /** the largest run's tensors at their peak (runTensorBytes) */
  runBytes: number;
  runs: number;
}): { jobs: number; why: string } {
  if (machine.backend === 'webgpu' || machine.backend === 'webgl')
    return { jobs: 1, why: 'one GPU, on which runs would take turns; --jobs N to share it' };
  const byMemory = Math.floor((0.8 * machine.freeBytes) / (processBytes + machine.runBytes));
  const jobs = Math.max(1, Math.min(machine.cores, byMemory, machine.runs, 8));
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const limits = [plural(machine.cores, 'core'), `memory for ${byMemory}`, `${plural(machine.runs, 'run')} to train`];
  return { jobs, why: `${machine.backend}: ${limits.join(', ')}; --jobs N to choose` };
}

/**
 * --jobs, else ISOFLOP_JOBS (a number, or auto), else `autoJobs` for this machine, the backend the runs
 * train on and the sweep's runs still to train.
 */
export function jobsFor(
  given: number | undefined,
  env: Record<string, string | undefined>,
  backend: BackendName,
  runs: RunRecord[],
): { jobs: number; why: string | null } {
  if (given !== undefined) return { jobs: given, why: null };
  const fromEnv = env.ISOFLOP_JOBS?.trim();
  if (fromEnv && fromEnv !== 'auto') {
    const jobs = Number(fromEnv);
    if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64)
      throw new UsageError(`ISOFLOP_JOBS=${fromEnv}: give a whole number from 1 to 64, or auto`);
    return { jobs, why: null };
  }
  const todo = runs.filter(
    (run) => run.status === 'queued' || run.status === 'interrupted' || run.status === 'running',
  );
  const runBytes = Math.max(
    0,
    ...todo.map((run) =>
      runTensorBytes(
        run.config.model,
        run.config.batchSize,
        familyOf(run.config.model).paramCount(run.config.model).total,
      ),
    ),
  );
  return autoJobs({ backend, cores: availableParallelism(), freeBytes: freemem(), runBytes, runs: todo.length });
}

/**
 * In a job process: when the command that started it ends, by any means (kill -9 included), its IPC
 * channel closes, and the job ends at once, as if killed with it: its run keeps a dead lock and resumes
 * from its checkpoint with the sweep. The channel does not keep the job alive otherwise.
 */
export function endWithParent(): void {
  // Started as a job, and the command already gone (killed while this process started): end now.
  if (process.send && !process.connected) process.exit(130);
  if (!process.channel) return;
  process.channel.unref();
  process.once('disconnect', () => process.exit(130));
}

export interface JobWorkers {
  /** resolves when every worker has exited; the exit codes, in order */
  done: Promise<Array<number | null>>;
  /** asks every worker to stop after its current run's checkpoint (as Ctrl+C does) */
  stop(): void;
}

/** `count` job processes, each running the CLI with `args` (which include --worker) and `env` added. */
function startJobWorkers(count: number, args: string[], env: Record<string, string>, io: CliIo): JobWorkers {
  const entry = installedFile(join('bin', 'isoflop.js'), '--jobs cannot start its workers');
  const children = Array.from({ length: count }, (_, i) => {
    // A process group of its own: a terminal's Ctrl+C reaches only the command, which passes it on once
    // (a second SIGINT would end a job mid-step instead of after its run's checkpoint).
    const child = spawn(process.execPath, [entry, ...args], {
      // The IPC channel is how a job learns that the command ended (endWithParent); nothing is sent on it.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, ...env },
      detached: true,
    });
    let pending = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      // Which run (or study trial) each job took; its per-step lines stay in the job.
      for (const line of lines)
        if (/^\[\d+\/\d+\]|^trial \d+\/\d+:|^isoflop:/.test(line)) io.err(`[job ${i + 2}] ${line}`);
    });
    return child;
  });
  const stopped = new WeakSet<object>();
  const done = Promise.all(
    children.map(
      (child) =>
        new Promise<number | null>((resolve) => {
          child.once('exit', (code) => resolve(code));
          child.once('error', () => resolve(null));
        }),
    ),
  );
  return {
    done,
    stop: () => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null && !stopped.has(child)) {
          stopped.add(child);
          child.kill('SIGINT');
        }
      }
    },
  };
}

/**
 * Starts the jobs-1 job processes of a command training with `jobs` processes (none for one), after giving
 * this process its share of the cores; each job gets the same share (ISOFLOP_WASM_THREADS). `args` is the
 * job's command line, --worker included. Says how many processes train, and why that many when `why` says.
 */
export function startJobs(
  jobs: number,
  why: string | null,
  args: string[],
  io: CliIo,
  claiming = '',
): JobWorkers | null {
  if (jobs <= 1) {
    if (why) io.err(`Training one run at a time (${why}).`);
    return null;
  }
  const threadsEach = Math.max(1, Math.floor(defaultWasmThreads(io.env) / jobs));
  setWasmThreads(threadsEach);
  const workers = startJobWorkers(jobs - 1, args, { ISOFLOP_WASM_THREADS: String(threadsEach) }, io);
  io.err(`Training with ${jobs} processes${why ? ` (${why})` : ''}: this one and ${jobs - 1} more${claiming}.`);
  return workers;
}

/** Waits for the job processes to end, and says so if any ended early (its runs are then resumed here). */
async function jobsEnded(workers: JobWorkers, io: CliIo): Promise<void> {
  const codes = await workers.done;
  const lost = codes.filter((code) => code !== 0).length;
  if (lost > 0)
    io.err(
      `${lost} of ${codes.length} job processes ended early (exit ${codes.join(', ')}); their runs are resumed here.`,
    );
}

/**
 * Runs `pass` in this process beside the job processes (none: just `pass`). Once they have ended, `pass`
 * runs again, unless `again` says not (stopped): what a job that ended early left resumes here from its
 * checkpoints. The jobs are stopped (after their runs' checkpoints) if this process fails first.
 */
export async function passWithJobs<T>(
  workers: JobWorkers | null,
  io: CliIo,
  pass: () => Promise<T>,
  again: () => boolean = () => true,
): Promise<T> {
  try {
    let result = await pass();
    if (workers) {
      await jobsEnded(workers, io);
      if (again()) result = await pass();
    }
    return result;
  } finally {
    if (workers) {
      workers.stop();
      await workers.done;
    }
  }
}

/**
 * Trains `runs` with `jobs` processes, this one and jobs-1 `isoflop runs train ID... --worker` on the same
 * data folder, each claiming the next run none has (the runs' locks decide), each on its share of the
 * cores; a run whose job ended early is resumed here from its checkpoint at the end. `onTrained` hears of
 * each run this process trained, with its place in `runs`.
 */
export async function trainWithJobs(
  stores: Pick<App, 'runs' | 'datasets' | 'dataDir'>,
  runs: RunRecord[],
  options: {
    jobs: number;
    /** why that many, said with the count (`jobsFor`) */
    why: string | null;
    backend: NodeBackendPreference | undefined;
    io: CliIo;
    onTrained(run: RunRecord, index: number): void;
  },
): Promise<void> {
  const { jobs, backend, io } = options;
  const workers = startJobs(
    jobs,
    options.why,
    [
      'runs',
      'train',
      ...runs.map((run) => run.id),
      '--worker',
      '--store',
      stores.dataDir,
      ...(backend ? ['--backend', backend] : []),
    ],
    io,
  );
  const pass = async () => {
    for (const [index, run] of runs.entries()) {
      // Done by a job (or before): nothing to claim.
      if (isFinal((await stores.runs.get(run.id)).status)) continue;
      let trained = false;
      const done = await executeClaimedRun(stores, run.id, {
        backend,
        onClaimed: () => {
          trained = true;
        },
      });
      if (done && trained) options.onTrained(done, index);
    }
  };
  await passWithJobs(workers, io, pass);
}
