import type { MetricRow, RunRecord } from '../../src-shared/contract';
import { client, engine } from './app.svelte';

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
    /** when training started (ms since the epoch), for the ETA */
    startedAt: number;
  } | null;
  done: number;
  total: number;
  stopping: boolean;
  error: string | null;
  /** bumps whenever a run ends, so views refresh */
  finished: number;
}>({ sweepId: null, current: null, done: 0, total: 0, stopping: false, error: null, finished: 0 });

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
    queue.total--;
  }
  await client.call('runs.cancel', { id: run.id });
}

/** Trains runs after those already queued, or starts a queue for them. */
export function enqueue(runs: RunRecord[]): Promise<void> {
  if (!queue.sweepId) return trainRuns(runs);
  pending.push(...runs);
  queue.total += runs.length;
  return Promise.resolve();
}

/** Trains a sweep's queued and interrupted runs, smallest budget first. */
export async function runQueue(sweepId: string): Promise<void> {
  const { runs } = await client.call('sweeps.get', { id: sweepId });
  const todo = runs
    .filter((run) => run.status === 'queued' || run.status === 'interrupted')
    .sort((a, b) => a.config.budgetFlops - b.config.budgetFlops);
  await trainRuns(todo, sweepId);
}

/** Trains runs one at a time; also single runs outside a sweep (the over-fitting demo). */
export async function trainRuns(runs: RunRecord[], sweepId = 'single'): Promise<void> {
  if (queue.sweepId) throw new Error('A sweep is already training; stop it first.');
  queue.sweepId = sweepId;
  queue.stopping = false;
  queue.error = null;
  queue.total = runs.length;
  queue.done = 0;
  pending.splice(0, pending.length, ...runs);
  try {
    while (pending.length > 0 && !queue.stopping) {
      await trainOne(pending.shift() as RunRecord);
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
  }
}

async function trainOne(run: RunRecord): Promise<void> {
  const dataset = await client.call('datasets.get', { id: run.config.datasetId });
  const backends = await engine.probeBackends();
  const backend = backends.chosen;
  await client.call('runs.start', { id: run.id, backend, adapter: null, platform: navigator.userAgent.slice(0, 120) });
  queue.current = {
    runId: run.id,
    name: run.name,
    step: 0,
    plannedSteps: run.config.plannedSteps,
    valLoss: null,
    tokensPerSecond: 0,
    startedAt: Date.now(),
  };
  const writes: Array<Promise<unknown>> = [];
  try {
    const trained = await engine.train(run, dataset, null, (metrics) => {
      queue.current = {
        ...(queue.current as NonNullable<typeof queue.current>),
        step: metrics.step,
        valLoss: metrics.valLoss,
        tokensPerSecond: metrics.tokensPerSecond,
      };
      writes.push(client.call('runs.appendMetrics', { id: run.id, rows: [metrics as MetricRow] }));
    });
    await Promise.all(writes);
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
        bestValLoss: result.bestValLoss,
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
