import { budgetGroups, type Run } from './isoflop';
import { type ComputeModel, computeOptimal, fitParametric, predictLoss, type ScalingLaw } from './parametric';
import { parabolaFit } from './stats';

/**
 * Does the law predict? Fit on every budget but the largest, then predict each held-out run's loss and the
 * held-out budget's optimal size, and compare with what the runs at that budget show.
 */

export interface Backtest {
  heldOutBudget: number;
  /** the budgets the law was fitted on */
  fittedOn: number[];
  runs: Array<{ params: number; tokens: number; loss: number; predicted: number; errorPct: number }>;
  meanAbsLossErrorPct: number;
  /** N* at the held-out budget: predicted by the law fitted without it, and seen in its runs */
  nStarPredicted: number;
  nStarObserved: number;
  /** the observed N*: the vertex of the budget's parabola, or its best run where the runs do not curve up */
  nStarObservedFrom: 'parabola' | 'best run';
  nStarRatio: number;
  /** the full fit's a beside the backtest fit's, to show how much the largest budget moves the answer */
  fullFit: { E: number; alpha: number; beta: number };
  heldOutFit: { E: number; alpha: number; beta: number };
  flagged: boolean;
  verdict: string;
}

/** A loss error or an N* ratio beyond these flags the backtest. */
export const backtestLimits = { lossErrorPct: 3, nStarFactor: 2 };

function observedOptimum(runs: Run[]): { params: number; from: 'parabola' | 'best run' } {
  const logN = runs.map((run) => Math.log(run.params));
  const best = runs.reduce((m, run) => (run.loss < m.loss ? run : m));
  if (new Set(logN).size >= 3) {
    const { c1, c2 } = parabolaFit(
      logN,
      runs.map((run) => run.loss),
    );
    const at = -c1 / (2 * c2);
    if (c2 > 0 && at >= Math.min(...logN) && at <= Math.max(...logN)) return { params: Math.exp(at), from: 'parabola' };
  }
  return { params: best.params, from: 'best run' };
}

export function backtestLargest(runs: Run[], compute: ComputeModel, fullFit: ScalingLaw): Backtest | null {
  const groups = budgetGroups(runs);
  const heldOut = groups.at(-1);
  if (!heldOut || groups.length < 3) return null;
  const rest = groups.slice(0, -1).flatMap((group) => group.runs);
  if (rest.length < 5) return null;
  const law = fitParametric(rest.map((run) => ({ n: run.params, d: run.tokens, loss: run.loss })));
  const predicted = heldOut.runs.map((run) => {
    const value = predictLoss(law, run.params, run.tokens);
    return {
      params: run.params,
      tokens: run.tokens,
      loss: run.loss,
      predicted: value,
      errorPct: (100 * (value - run.loss)) / run.loss,
    };
  });
  const meanAbsLossErrorPct = predicted.reduce((sum, run) => sum + Math.abs(run.errorPct), 0) / predicted.length;
  const observed = observedOptimum(heldOut.runs);
  const nStarPredicted = computeOptimal(law, heldOut.flops, compute).params;
  const nStarRatio = nStarPredicted / observed.params;
  const flagged =
    meanAbsLossErrorPct > backtestLimits.lossErrorPct ||
    Math.abs(Math.log(nStarRatio)) > Math.log(backtestLimits.nStarFactor);
  const budget = heldOut.flops.toExponential(1);
  const verdict = flagged
    ? `Backtest: fitted without the largest budget (${budget} FLOPs), the law misses it (loss off by ${meanAbsLossErrorPct.toFixed(1)}% on average, N* ${nStarRatio.toFixed(2)}x the runs'): do not trust it much beyond your runs.`
    : `Backtest: fitted without the largest budget (${budget} FLOPs), the law predicts its runs' loss within ${meanAbsLossErrorPct.toFixed(1)}% on average and its N* at ${nStarRatio.toFixed(2)}x the runs'.`;
  return {
    heldOutBudget: heldOut.flops,
    fittedOn: groups.slice(0, -1).map((group) => group.flops),
    runs: predicted,
    meanAbsLossErrorPct,
    nStarPredicted,
    nStarObserved: observed.params,
    nStarObservedFrom: observed.from,
    nStarRatio,
    fullFit: { E: fullFit.E, alpha: fullFit.alpha, beta: fullFit.beta },
    heldOutFit: { E: law.E, alpha: law.alpha, beta: law.beta },
    flagged,
    verdict,
  };
}
