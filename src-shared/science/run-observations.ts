import type { DatasetManifest, RunRecord } from '../contract';
import { type KnownFloor, knownFloorOf } from '../format';
import type { RunObservation } from './analysis';

/**
 * A completed run as the fits see it: N (total and non-embedding), D, the exact training FLOPs it spent and,
 * for a sweep's run, the budget it was planned for. Null for a run with no final validation loss.
 */
export function observeRun(run: RunRecord): RunObservation | null {
  if (run.status !== 'completed' || run.result?.valLoss == null) return null;
  return {
    n: run.params.total,
    nNonEmbedding: run.params.nonEmbedding,
    d: run.result.tokens,
    loss: run.result.valLoss,
    ...(run.result.flops > 0 ? { flops: run.result.flops } : {}),
    ...(run.sweepId !== null ? { budget: run.config.budgetFlops } : {}),
  };
}

export function observeRuns(runs: RunRecord[]): RunObservation[] {
  return runs.map(observeRun).filter((run): run is RunObservation => run !== null);
}

/** What a dataset tells a fit: its known floor, and how many unique items a D* is measured against. */
export interface DatasetContext {
  floor: KnownFloor | null;
  uniqueTokens: number | null;
  items: 'tokens' | 'rows';
}

export function datasetContext(dataset: DatasetManifest | null): DatasetContext {
  if (!dataset) return { floor: null, uniqueTokens: null, items: 'tokens' };
  return dataset.kind === 'table'
    ? { floor: knownFloorOf(dataset), uniqueTokens: dataset.splits.train.rows, items: 'rows' }
    : { floor: knownFloorOf(dataset), uniqueTokens: dataset.splits.train.tokens, items: 'tokens' };
}
