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
  } | null;
  done: number;
  total: number;
  stopping: boolean;
  error: string | null;
  /** bumps whenever a run ends, so views refresh */
  finished: number;
}>({ sweepId: null, current: null, done: 0, total: 0, stopping: false, error: null, finished: 0 });

export function stopQueue(): void {
  queue.stopping = true;
  engine.stop();
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
  try {
    for (const run of runs) {
      if (queue.stopping) break;
      await trainOne(run);
      queue.done++;
      queue.finished++;
    }
  } catch (error) {
    queue.error = error instanceof Error ? error.message : String(error);
  } finally {
    queue.sweepId = null;
    queue.current = null;
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
    const status =
      result.status === 'diverged' ? 'diverged' : result.reason === 'stopped on request' ? 'interrupted' : 'completed';
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
