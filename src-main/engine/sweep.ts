import type { RunRecord } from '../../src-shared/contract';
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

/** Runs every queued or interrupted run of a sweep, smallest budget first, one at a time. */
export async function runSweep(
  stores: Stores,
  sweepId: string,
  options: ExecuteOptions & {
    onRunStart?(run: RunRecord, index: number, total: number): void;
    shouldStop?(): boolean;
    /** run only the runs i with i mod count = index (cluster array jobs) */
    shard?: { index: number; count: number };
  } = {},
): Promise<RunRecord[]> {
  const sweep = await stores.sweeps.get(sweepId);
  const runs = await Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
  const order = runs
    .map((run, index) => ({ run, index }))
    .sort((a, b) => a.run.config.budgetFlops - b.run.config.budgetFlops || a.index - b.index);
  const shard = options.shard;
  for (const [position, { run, index }] of order.entries()) {
    if (options.shouldStop?.()) break;
    if (shard && index % shard.count !== shard.index) continue;
    if (run.status !== 'queued' && run.status !== 'interrupted' && run.status !== 'running') continue;
    // Null: another process is training it.
    await executeClaimedRun(stores, run.id, {
      ...options,
      onClaimed: (current) => options.onRunStart?.(current, position, order.length),
    });
  }
  return Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
}
