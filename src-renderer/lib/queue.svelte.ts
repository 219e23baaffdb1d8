import type { MetricRow, RunRecord } from '../../src-shared/contract';
import { byBudget, RunQueue } from '../../src-shared/engine/session/run-queue';
import { isWaiting, type RunEnd } from '../../src-shared/engine/session/run-status';
import { client, engine } from './app.svelte';
import { loseWebGpuDeviceAtStep, trainingBackendOf } from './settings.svelte';

/**
 * The app's run queue: the shared RunQueue (src-shared/engine/session), its state mirrored here for the
 * views. A sweep's queued runs train smallest budget first, each a run session in a worker whose metrics
 * reach the store as they arrive, so the Runs view and the CLI see them. On a GPU one at a time (the GPU is
 * one); on WASM and the CPU one per core (at most 4, and as many as the device's memory allows), each in a
 * worker of its own with its share of the cores: a sweep's small models gain more from training side by
 * side than from threads.
 */

export interface TrainingRun {
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
}

export const queue = $state<{
  sweepId: string | null;
  /** the first of the runs training now (the one, on a GPU) */
  current: TrainingRun | null;
  /** every run training now, in the order they started */
  training: TrainingRun[];
  /** how many runs the queue trains at once */
  lanes: number;
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
  training: [],
  lanes: 1,
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
  () => queue.lanes,
);

/** The run with this id, if it is training now. */
export function trainingRun(runId: string): TrainingRun | undefined {
  return queue.training.find((run) => run.runId === runId);
}

/**
 * How many runs to train at once on `backend`: on WASM and the CPU one per core the browser reports (at
 * most 4), no more than one per GB of device memory where the browser says (navigator.deviceMemory), and
 * no more than the runs; one on a GPU.
 */
export function trainingLanes(backend: string | null, runs: number): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  const cores = navigator.hardwareConcurrency || 1;
  const memory = (navigator as { deviceMemory?: number }).deviceMemory ?? Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(4, cores, Math.floor(memory), runs));
}

/**
 * About how long the queue has left: the FLOPs still to spend (the rest of each run training and every
 * waiting run's budget) at the speed the runs training show together. Null until a speed is measured.
 * Small models run below the speed of larger ones, so it errs long early in a sweep.
 */
export function queueTimeLeft(): number | null {
  // The speeds measured so far, together (a run just started has none yet).
  const speed = queue.training.reduce((sum, run) => sum + Math.max(0, run.flopsPerSecond), 0);
  if (speed <= 0) return null;
  const left = queue.training.reduce(
    (sum, run) => sum + run.budgetFlops * Math.max(0, 1 - run.step / run.plannedSteps),
    queue.waitingFlops,
  );
  return left / speed;
}

/** Pauses the queue: the runs training stop (as `interrupted`, to resume later) and no other starts. */
export function stopQueue(): void {
  runs.stop();
  queue.stopping = true;
  engine.stop('pause');
}

/** Cancels one run: if it is training it stops and the queue goes on; a waiting one leaves the queue. */
export async function cancelRun(run: RunRecord): Promise<void> {
  if (trainingRun(run.id)) {
    engine.stop('cancel', run.id);
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
    queue.lanes = todo.length > 1 ? trainingLanes(trainingBackendOf(await engine.probeBackends()), todo.length) : 1;
    await runs.add(todo);
  } catch (error) {
    queue.error = error instanceof Error ? error.message : String(error);
  } finally {
    queue.sweepId = null;
    queue.current = null;
    queue.training = [];
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
  // Stopped while this run was being fetched: it stays as it was, to train when the queue goes on.
  if (runs.state.stopping) return;
  const fromStep = run.status === 'queued' ? 0 : (run.lastCheckpointStep ?? 0);
  const training: TrainingRun = {
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
  const update = (next: TrainingRun[]) => {
    queue.training = next;
    queue.current = next[0] ?? null;
  };
  update([...queue.training, training]);
  try {
    const end = await engine.train(run, dataset, {
      backend,
      client,
      lanes: queue.lanes,
      loseWebGpuDeviceAtStep: loseWebGpuDeviceAtStep(),
      ...(hooks.prune ? { prune: hooks.prune } : {}),
      onMetrics: (metrics) => {
        update(
          queue.training.map((other) =>
            other.runId === run.id
              ? {
                  ...other,
                  step: metrics.step,
                  valLoss: metrics.valLoss,
                  tokensPerSecond: metrics.tokensPerSecond,
                  flopsPerSecond: metrics.flopsPerSecond,
                }
              : other,
          ),
        );
      },
    });
    ends.set(run.id, end);
  } finally {
    update(queue.training.filter((other) => other.runId !== run.id));
    queue.finished++;
  }
}
