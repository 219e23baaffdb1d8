import type { MetricRow, RunRecord } from '../../src-shared/contract';
import { activationLogLine } from '../../src-shared/engine/memory';
import { client, engine } from './app.svelte';
import { loseWebGpuDeviceAtStep, trainingBackendOf } from './settings.svelte';

/**
 * The app's run queue: a sweep's queued runs, one at a time (the GPU is one), smallest budget first,
 * trained in the worker; metrics go to the store as they arrive, so the Runs view and the CLI see them.
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
    /** when training started (ms since the epoch) and at which step (a resumed run), for the ETA */
    startedAt: number;
    startStep: number;
  } | null;
  done: number;
  total: number;
  /** ids of the runs waiting in this queue, in order */
  waiting: string[];
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
  stopping: false,
  error: null,
  finished: 0,
  notice: null,
});

/** Runs still to train in this queue, in order; re-runs join it while it trains. */
const pending: RunRecord[] = [];
/** The run being cancelled (not paused): it ends as `cancelled` rather than `interrupted`. */
let cancelling: string | null = null;

/** Pauses the queue: the current run stops (as `interrupted`, to resume later) and no other starts. */
export function stopQueue(): void {
  queue.stopping = true;
  engine.stop();
}

/** Cancels one run: the one training stops and the queue goes on; a waiting one leaves the queue. */
export async function cancelRun(run: RunRecord): Promise<void> {
  if (queue.current?.runId === run.id) {
    cancelling = run.id;
    engine.stop();
    return;
  }
  const at = pending.findIndex((waiting) => waiting.id === run.id);
  if (at >= 0) {
    pending.splice(at, 1);
    queue.waiting = pending.map((waiting) => waiting.id);
    queue.total--;
  }
  await client.call('runs.cancel', { id: run.id });
}

/** Trains runs after those already queued, or starts a queue for them. */
export function enqueue(runs: RunRecord[]): Promise<void> {
  if (!queue.sweepId) return trainRuns(runs);
  pending.push(...runs);
  queue.waiting = pending.map((waiting) => waiting.id);
  queue.total += runs.length;
  return Promise.resolve();
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
  const { runs } = await client.call('sweeps.get', { id: sweepId });
  const todo = runs
    .filter((run) => waiting(run) || (afterRestart && run.status === 'running'))
    .sort((a, b) => a.config.budgetFlops - b.config.budgetFlops);
  await remember(sweepId);
  try {
    await trainRuns(todo, sweepId);
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
  const left = sweep?.runs.filter((run) => waiting(run) || run.status === 'running') ?? [];
  if (!sweep || left.length === 0) {
    await remember(null);
    return;
  }
  queue.notice = `Picked up "${sweep.sweep.name}" where it was when IsoFLOP closed: ${left.length} run${left.length === 1 ? '' : 's'} to go.`;
  await runQueue(sweepId, true);
}

function waiting(run: RunRecord): boolean {
  return run.status === 'queued' || run.status === 'interrupted';
}

export interface TrainHooks {
  /** after each evaluation with a validation loss: true stops the run as cancelled (a study's pruner) */
  shouldStop?(run: RunRecord, metrics: MetricRow): Promise<boolean>;
}

/** Trains runs one at a time; also single runs outside a sweep (the over-fitting demo, a study's trial). */
export async function trainRuns(runs: RunRecord[], sweepId = 'single', hooks: TrainHooks = {}): Promise<void> {
  if (queue.sweepId) throw new Error('A sweep is already training; stop it first.');
  queue.sweepId = sweepId;
  queue.stopping = false;
  queue.error = null;
  queue.total = runs.length;
  queue.done = 0;
  pending.splice(0, pending.length, ...runs);
  try {
    while (pending.length > 0 && !queue.stopping) {
      const run = pending.shift() as RunRecord;
      queue.waiting = pending.map((waiting) => waiting.id);
      await trainOne(run, hooks);
      cancelling = null;
      queue.done++;
      queue.finished++;
    }
  } catch (error) {
    queue.error = error instanceof Error ? error.message : String(error);
  } finally {
    queue.sweepId = null;
    queue.current = null;
    pending.length = 0;
    queue.waiting = [];
  }
}

/** Runs left `interrupted` (paused) or `running` (the app closed mid-run) resume from their last checkpoint. */
async function trainOne(queued: RunRecord, hooks: TrainHooks): Promise<void> {
  // As the store has it now (a view's copy may be stale, and is a reactive proxy the worker cannot receive).
  const { run, metrics: before } = await client.call('runs.get', { id: queued.id });
  const dataset = await client.call('datasets.get', { id: run.config.datasetId });
  const backends = await engine.probeBackends();
  const backend = trainingBackendOf(backends);
  const resumable = run.status === 'interrupted' || run.status === 'running';
  const resume = resumable ? await client.call('runs.latestCheckpoint', { id: run.id }) : null;
  const fromStep = resume?.manifest.step ?? 0;
  const platform = navigator.userAgent.slice(0, 120);
  const memoryNote = activationLogLine(run);
  await client.call('runs.start', {
    id: run.id,
    backend,
    adapter: backends.probes.find((probe) => probe.backend === backend)?.detail ?? null,
    platform,
    fromStep,
    ...(memoryNote !== null ? { note: memoryNote } : {}),
  });
  // The best validation loss before the checkpoint is in the metrics that stay.
  let priorBest: number | null = null;
  for (const row of before) {
    if (row.step > fromStep || row.valLoss === null) continue;
    if (priorBest === null || row.valLoss < priorBest) priorBest = row.valLoss;
  }
  queue.current = {
    runId: run.id,
    name: run.name,
    step: fromStep,
    startStep: fromStep,
    plannedSteps: run.config.plannedSteps,
    valLoss: null,
    tokensPerSecond: 0,
    startedAt: Date.now(),
  };
  // Writes go one after another, in the order the worker sent them: metrics.jsonl stays in step order.
  let writes: Promise<unknown> = Promise.resolve();
  // The first that fails (a full disk, say) stops the run; the error is what the run then records.
  let writeFailed = false;
  const write = (next: () => Promise<unknown>) => {
    writes = writes.then(next).catch((error: unknown) => {
      if (!writeFailed) engine.stop();
      writeFailed = true;
      throw error;
    });
  };
  try {
    const trained = await engine.train(run, dataset, {
      backend,
      resume,
      loseWebGpuDeviceAtStep: loseWebGpuDeviceAtStep(),
      onFallback: ({ backend: next, adapter, fromStep: from, message }) => {
        // The store drops the metrics past the checkpoint, records the new backend and logs why.
        write(() =>
          client.call('runs.start', {
            id: run.id,
            backend: next,
            adapter,
            platform,
            fromStep: from,
            note: message,
          }),
        );
        queue.current = { ...(queue.current as NonNullable<typeof queue.current>), step: from };
      },
      onMetrics: (metrics) => {
        queue.current = {
          ...(queue.current as NonNullable<typeof queue.current>),
          step: metrics.step,
          valLoss: metrics.valLoss,
          tokensPerSecond: metrics.tokensPerSecond,
        };
        write(() => client.call('runs.appendMetrics', { id: run.id, rows: [metrics as MetricRow] }));
        const { shouldStop } = hooks;
        if (shouldStop && metrics.valLoss !== null) {
          write(async () => {
            if (cancelling !== run.id && (await shouldStop(run, metrics as MetricRow))) {
              cancelling = run.id;
              engine.stop();
            }
          });
        }
      },
      onCheckpoint: (manifest, weights) => {
        write(async () =>
          client.call('runs.saveCheckpoint', { id: run.id, manifest, weights: await client.prepareBytes(weights) }),
        );
      },
    });
    await writes;
    const { result } = trained;
    const stopped = result.reason === 'stopped on request';
    const status =
      result.status === 'diverged'
        ? 'diverged'
        : stopped && cancelling === run.id
          ? 'cancelled'
          : stopped
            ? 'interrupted'
            : 'completed';
    await client.call('runs.finish', {
      id: run.id,
      status,
      result: {
        step: result.step,
        tokens: result.tokens,
        flops: result.flops,
        wallSeconds: result.wallSeconds,
        trainLoss: result.trainLoss,
        valLoss: result.valLoss,
        bestValLoss:
          priorBest !== null && (result.bestValLoss === null || priorBest < result.bestValLoss)
            ? priorBest
            : result.bestValLoss,
        divergedAt: result.divergedAt,
        reason: result.reason,
      },
      error: null,
    });
  } catch (error) {
    await client.call('runs.finish', {
      id: run.id,
      status: 'failed',
      result: null,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
