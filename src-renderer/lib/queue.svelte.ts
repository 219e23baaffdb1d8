import type { MetricRow, RunRecord } from '../../src-shared/contract';
import { byBudget, RunQueue } from '../../src-shared/engine/session/run-queue';
import { isWaiting, type RunEnd } from '../../src-shared/engine/session/run-status';
import { client, engine } from './app.svelte';
import { loseWebGpuDeviceAtStep, trainingBackendOf } from './settings.svelte';

/**
 * The app's run queue: the shared RunQueue (src-shared/engine/session), its state mirrored here for the
 * views. A sweep's queued runs train one at a time (the GPU is one), smallest budget first, each a run
 * session in the worker whose metrics reach the store as they arrive, so the Runs view and the CLI see them.
 */

export const queue = $state<{
  sweepId: string | null;
  current: {
    runId: string;
    name: string;
    step: number;
    plannedSteps: number;
    valLoss: number | null;
    tokensPerSecond: number;
    /** the run's compute budget and the speed measured so far, for the queue's time left */
    budgetFlops: number;
    flopsPerSecond: number;
    /** when training started (ms since the epoch) and at which step (a resumed run), for the ETA */
    startedAt: number;
    startStep: number;
  } | null;
  done: number;
  total: number;
  /** ids of the runs waiting in this queue, in order */
  waiting: string[];
  /** the compute budgets of the runs waiting, summed */
  waitingFlops: number;
  /** a sweep whose queue trained to its end, for the completion notice: its name and how its runs ended */
  finishedSweep: { id: string; name: string; completed: number; total: number } | null;
  stopping: boolean;
  error: string | null;
  /** bumps whenever a run ends, so views refresh */
  finished: number;
  /** a line for the user about the queue (a sweep picked up after a restart) */
  notice: string | null;
}>({
  sweepId: null,
  current: null,
  done: 0,
  total: 0,
  waiting: [],
  waitingFlops: 0,
  finishedSweep: null,
  stopping: false,
  error: null,
  finished: 0,
  notice: null,
});

/** The hooks of the runs in this queue (a study's pruner), and each run's end, by run id. */
let hooks: TrainHooks = {};
const ends = new Map<string, RunEnd>();

const runs = new RunQueue(
  (run) => trainOne(run),
  (state) => {
    queue.done = state.done;
    queue.total = state.total;
    queue.waiting = state.waiting.map((waiting) => waiting.id);
    queue.waitingFlops = state.waiting.reduce((sum, waiting) => sum + waiting.config.budgetFlops, 0);
    queue.stopping = state.stopping;
  },
);

/**
 * About how long the queue has left: the FLOPs still to spend (the rest of the current run and every
 * waiting run's budget) at the speed the current run shows. Null until a speed is measured. Small models
 * run below the speed of larger ones, so it errs long early in a sweep.
 */
export function queueTimeLeft(): number | null {
  const current = queue.current;
  if (!current || current.flopsPerSecond <= 0) return null;
  const left = current.budgetFlops * Math.max(0, 1 - current.step / current.plannedSteps) + queue.waitingFlops;
  return left / current.flopsPerSecond;
}

/** Pauses the queue: the current run stops (as `interrupted`, to resume later) and no other starts. */
export function stopQueue(): void {
  runs.stop();
  queue.stopping = true;
  engine.stop('pause');
}

/** Cancels one run: the one training stops and the queue goes on; a waiting one leaves the queue. */
export async function cancelRun(run: RunRecord): Promise<void> {
  if (queue.current?.runId === run.id) {
    engine.stop('cancel');
    return;
  }
  runs.remove(run.id);
  await client.call('runs.cancel', { id: run.id });
}

/** Trains runs after those already queued, or starts a queue for them. */
export async function enqueue(more: RunRecord[]): Promise<void> {
  if (!queue.sweepId) {
    await trainRuns(more);
    return;
  }
  void runs.add(more);
}

/**
 * The sweep being trained is remembered (per data folder, in the renderer's storage) until its queue
 * ends or is paused: if the app closes mid-sweep, the next start picks the queue up where it was.
 */
let memoryKey: Promise<string | null> | null = null;
function queueMemory(): Promise<string | null> {
  memoryKey ??= client.call('system.info', {}).then(
    (info) => `isoflop.queue:${info.dataDir}`,
    () => null,
  );
  return memoryKey;
}

async function remember(sweepId: string | null): Promise<void> {
  const key = await queueMemory();
  if (!key) return;
  try {
    if (sweepId) localStorage.setItem(key, sweepId);
    else localStorage.removeItem(key);
  } catch {
    // Storage refused (a private window): the queue is simply not resumed after a restart.
  }
}

/**
 * Trains a sweep's queued and interrupted runs, smallest budget first. `afterRestart`: runs still marked
 * running are ours too (this window's queue was training them when it closed), and resume.
 */
export async function runQueue(sweepId: string, afterRestart = false): Promise<void> {
  const sweep = await client.call('sweeps.get', { id: sweepId });
  const todo = byBudget(
    sweep.runs.filter((run) => isWaiting(run.status) || (afterRestart && run.status === 'running')),
  );
  await remember(sweepId);
  queue.finishedSweep = null;
  try {
    await trainRuns(todo, sweepId);
    if (!queue.error && !queue.stopping) {
      const after = await client.call('sweeps.get', { id: sweepId });
      const completed = after.runs.filter((run) => run.status === 'completed').length;
      queue.finishedSweep = { id: sweepId, name: after.sweep.name, completed, total: after.runs.length };
      // "Picked up … where it was" is old news once the sweep has finished.
      queue.notice = null;
    }
  } finally {
    // Finished, paused or failed: nothing to pick up at the next start.
    await remember(null);
  }
}

/** At start: goes on with the sweep whose queue was training when the app closed, if it has runs left. */
export async function resumeAfterRestart(): Promise<void> {
  const key = await queueMemory();
  let sweepId: string | null = null;
  try {
    sweepId = key ? localStorage.getItem(key) : null;
  } catch {
    return;
  }
  if (!sweepId || queue.sweepId) return;
  const sweep = await client.call('sweeps.get', { id: sweepId }).catch(() => null);
  const left = sweep?.runs.filter((run) => isWaiting(run.status) || run.status === 'running') ?? [];
  if (!sweep || left.length === 0) {
    await remember(null);
    return;
  }
  queue.notice = `Picked up "${sweep.sweep.name}" where it was when IsoFLOP closed: ${left.length} run${left.length === 1 ? '' : 's'} to go.`;
  await runQueue(sweepId, true);
}

export interface TrainHooks {
  /** after each evaluation with a validation loss: true stops the run as cancelled (a study's pruner) */
  prune?(metrics: MetricRow): Promise<boolean>;
}

/**
 * Trains runs one at a time; also single runs outside a sweep (the over-fitting demo, a study's trial).
 * Resolves with each run's end, by run id (a run that never started has none).
 */
export async function trainRuns(
  todo: RunRecord[],
  sweepId = 'single',
  trainHooks: TrainHooks = {},
): Promise<Map<string, RunEnd>> {
  if (queue.sweepId || runs.busy) throw new Error('A sweep is already training; stop it first.');
  queue.sweepId = sweepId;
  queue.error = null;
  hooks = trainHooks;
  ends.clear();
  try {
    await runs.add(todo);
  } catch (error) {
    queue.error = error instanceof Error ? error.message : String(error);
  } finally {
    queue.sweepId = null;
    queue.current = null;
    hooks = {};
  }
  return new Map(ends);
}

/** Runs left `interrupted` (paused) or `running` (the app closed mid-run) resume from their last checkpoint. */
async function trainOne(queued: RunRecord): Promise<void> {
  // As the store has it now (a view's copy may be stale, and is a reactive proxy the worker cannot receive).
  const { run } = await client.call('runs.get', { id: queued.id });
  const dataset = await client.call('datasets.get', { id: run.config.datasetId });
  const backend = trainingBackendOf(await engine.probeBackends());
  const fromStep = run.status === 'queued' ? 0 : (run.lastCheckpointStep ?? 0);
  queue.current = {
    runId: run.id,
    name: run.name,
    step: fromStep,
    startStep: fromStep,
    plannedSteps: run.config.plannedSteps,
    valLoss: null,
    tokensPerSecond: 0,
    budgetFlops: run.config.budgetFlops,
    flopsPerSecond: 0,
    startedAt: Date.now(),
  };
  try {
    const end = await engine.train(run, dataset, {
      backend,
      client,
      loseWebGpuDeviceAtStep: loseWebGpuDeviceAtStep(),
      ...(hooks.prune ? { prune: hooks.prune } : {}),
      onMetrics: (metrics) => {
        queue.current = {
          ...(queue.current as NonNullable<typeof queue.current>),
          step: metrics.step,
          valLoss: metrics.valLoss,
          tokensPerSecond: metrics.tokensPerSecond,
          flopsPerSecond: metrics.flopsPerSecond,
        };
      },
    });
    ends.set(run.id, end);
  } finally {
    queue.finished++;
  }
}
