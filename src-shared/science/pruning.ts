/**
 * Pruners: decide, at an evaluation, whether a trial of a study is worth training on. Pure functions
 * over the intermediate values (validation loss, lower is better) that trials reported at each step.
 *
 * - median (Optuna's MedianPruner): stop a trial whose value is worse than the median of the earlier
 *   trials' values at the same step, once `startupTrials` trials have reported there.
 * - asha (asynchronous successive halving, Li et al. 2020; Optuna's SuccessiveHalvingPruner): rungs at
 *   steps minResource·η^k; a trial reaching a rung goes on only if its value is among the best 1/η of
 *   every value recorded at that rung so far (its own included), else it stops there.
 */

export type PrunerName = 'median' | 'asha' | 'none';

export interface PrunerOptions {
  /** median: trials that must have reported at a step before any is stopped there */
  startupTrials: number;
  /** asha: the first rung's step */
  minResource: number;
  /** asha: η, the share kept at each rung is 1/η */
  reductionFactor: number;
}

export const defaultPrunerOptions: PrunerOptions = { startupTrials: 3, minResource: 1, reductionFactor: 3 };

/** One trial's reports: step -> value. */
export type Intermediate = ReadonlyArray<readonly [step: number, value: number]>;

function valuesAt(others: Intermediate[], step: number): number[] {
  const out: number[] = [];
  for (const trial of others) {
    for (const [s, v] of trial) if (s === step && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** The rung steps at or below `maxStep`: minResource, minResource·η, minResource·η², ... */
export function ashaRungs(options: PrunerOptions, maxStep: number): number[] {
  const rungs: number[] = [];
  for (let step = options.minResource; step <= maxStep; step *= options.reductionFactor) {
    rungs.push(Math.round(step));
    if (options.reductionFactor <= 1) break;
  }
  return rungs;
}

/**
 * Should the trial stop after reporting `value` at `step`? `others`: the other trials' reports (finished
 * or still running); `lastStep`: the trial's final step (nothing is pruned there: it has finished).
 */
export function shouldPrune(
  pruner: PrunerName,
  step: number,
  value: number,
  others: Intermediate[],
  lastStep: number,
  options: PrunerOptions = defaultPrunerOptions,
): boolean {
  if (pruner === 'none' || step >= lastStep) return false;
  if (!Number.isFinite(value)) return true;
  if (pruner === 'median') {
    const earlier = valuesAt(others, step);
    if (earlier.length < options.startupTrials) return false;
    const sorted = earlier.sort((a, b) => a - b);
    const mid = sorted.length / 2;
    const median =
      sorted.length % 2 === 1
        ? (sorted[Math.floor(mid)] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    return value > median;
  }
  // ASHA: only at a rung; the rung's competitors are every value recorded there, this one included.
  const rungs = ashaRungs(options, lastStep);
  if (!rungs.includes(step)) return false;
  const competing = [...valuesAt(others, step), value].sort((a, b) => a - b);
  const keep = Math.max(1, Math.floor(competing.length / options.reductionFactor));
  return value > (competing[keep - 1] as number);
}

/**
 * The steps at which trials of `steps` steps are evaluated for pruning: about ten, and for ASHA its rungs
 * too, so a rung is never skipped because no evaluation falls on it.
 */
export function pruningEvalSteps(pruner: PrunerName, steps: number, options: PrunerOptions): number[] {
  const out = new Set<number>();
  for (let i = 1; i <= 10; i++) out.add(Math.max(1, Math.round((i * steps) / 10)));
  if (pruner === 'asha') for (const rung of ashaRungs(options, steps)) out.add(rung);
  return [...out].sort((a, b) => a - b);
}
