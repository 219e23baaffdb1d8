import type { MetricRow, RunRecord } from '../contract';
import { foldBand, meanStd } from '../data/folds';

/** A cross-validation's folds summarised: per-fold results, their mean ± std, and a band over the curves. */

export interface CrossValidationSummary {
  k: number;
  completed: number;
  folds: Array<{
    index: number;
    runId: string;
    status: string;
    bestValLoss: number | null;
    valAccuracy: number | null;
  }>;
  bestValLoss: { mean: number; std: number } | null;
  valAccuracy: { mean: number; std: number } | null;
  /** validation loss per step across the completed folds */
  band: Array<{ step: number; mean: number; std: number }>;
}

export function summariseFolds(runs: Array<{ run: RunRecord; metrics: MetricRow[] }>): CrossValidationSummary {
  const folds = runs
    .filter(({ run }) => run.config.fold)
    .map(({ run, metrics }) => {
      const last = [...metrics].reverse().find((m) => m.valAccuracy !== null);
      return {
        index: run.config.fold?.index ?? 0,
        runId: run.id,
        status: run.status,
        bestValLoss: run.status === 'completed' ? (run.result?.bestValLoss ?? null) : null,
        valAccuracy: run.status === 'completed' ? (last?.valAccuracy ?? null) : null,
        curve: metrics.flatMap((m) => (m.valLoss === null ? [] : [{ step: m.step, value: m.valLoss }])),
      };
    })
    .sort((a, b) => a.index - b.index);
  const done = folds.filter((f) => f.bestValLoss !== null);
  const accuracies = done.flatMap((f) => (f.valAccuracy === null ? [] : [f.valAccuracy]));
  return {
    k: runs[0]?.run.config.fold?.k ?? folds.length,
    completed: done.length,
    folds: folds.map(({ curve: _curve, ...fold }) => fold),
    bestValLoss: done.length > 0 ? meanStd(done.map((f) => f.bestValLoss as number)) : null,
    valAccuracy: accuracies.length > 0 ? meanStd(accuracies) : null,
    band: foldBand(done.map((f) => f.curve)),
  };
}
