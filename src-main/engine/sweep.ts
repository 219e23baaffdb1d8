import type { RunRecord } from '../../src-shared/contract';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { SweepStore } from '../store/sweeps';
import { type ExecuteOptions, executeRun } from './run-executor';

/** Runs a stored sweep's queue headless (the CLI); `createSweep` in the store makes the sweep. */
export { createSweep } from '../store/sweeps';

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
  } = {},
): Promise<RunRecord[]> {
  const sweep = await stores.sweeps.get(sweepId);
  const runs = await Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
  const order = runs
    .map((run, index) => ({ run, index }))
    .sort((a, b) => a.run.config.budgetFlops - b.run.config.budgetFlops || a.index - b.index);
  for (const [position, { run }] of order.entries()) {
    if (options.shouldStop?.()) break;
    if (run.status !== 'queued' && run.status !== 'interrupted' && run.status !== 'running') continue;
    options.onRunStart?.(run, position, order.length);
    // A run found 'running' was left by a process that died: resume it from its checkpoint.
    if (run.status === 'running') await stores.runs.update(run.id, { status: 'interrupted' });
    await executeRun(stores, run.id, options);
  }
  return Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
}
