import type { RunRecord } from '../../src-shared/contract';
import { byBudget, RunQueue } from '../../src-shared/engine/session/run-queue';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { SweepStore } from '../store/sweeps';
import { type ExecuteOptions, executeClaimedRun } from './run-executor';

/** Runs a stored sweep's queue headless (the CLI); `createSweep` (src-main/usecases/sweeps.ts) makes the sweep. */
export { createSweep } from '../usecases/sweeps';

export interface Stores {
  runs: RunStore;
  sweeps: SweepStore;
  datasets: DatasetStore;
}

/** Runs every queued or interrupted run of a sweep, smallest budget first, one at a time (the shared RunQueue). */
export async function runSweep(
  stores: Stores,
  sweepId: string,
  options: ExecuteOptions & {
    onRunStart?(run: RunRecord, index: number, total: number): void;
    shouldStop?(): boolean;
    /** run only the runs i with i mod count = index (cluster array jobs) */
    shard?: { index: number; count: number };
    /**
     * Largest budget first: with several processes on one sweep (--jobs), the long runs start early and the
     * short ones fill in at the end, so no process waits alone on a long last run.
     */
    largestFirst?: boolean;
  } = {},
): Promise<RunRecord[]> {
  const sweep = await stores.sweeps.get(sweepId);
  const runs = await Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
  const order = options.largestFirst ? byBudget(runs).reverse() : byBudget(runs);
  const { shard } = options;
  const todo = order.filter(
    (run) =>
      (!shard || runs.indexOf(run) % shard.count === shard.index) &&
      (run.status === 'queued' || run.status === 'interrupted' || run.status === 'running'),
  );
  const queue: RunQueue = new RunQueue(async (run) => {
    // Skipped (null) when another process is training it.
    await executeClaimedRun(stores, run.id, {
      ...options,
      onClaimed: (current) => options.onRunStart?.(current, order.indexOf(run), order.length),
    });
    if (options.shouldStop?.()) queue.stop();
  });
  if (!options.shouldStop?.()) await queue.add(todo);
  return Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
}
