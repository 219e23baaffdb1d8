import { formatCount, formatFlops, formatSig, type KnownFloor } from '../format';
import type { Backtest } from './backtest';
import type { ComputeMeasure } from './compute';
import type { Ci95 } from './frontier';
import { effectiveTokens } from './frontier';
import type { IsoflopFit } from './isoflop';
import type { Observation, ScalingLaw } from './parametric';

/**
 * What a fit cannot support, in plain sentences: parameters at a bound, intervals of zero width, too few
 * runs or budgets, valleys missed, approaches that disagree, a floor above what the data allows. The CLI,
 * the Frontier view and the report show the same list.
 */

export type { KnownFloor };

/** Which ends of an interval the runs leave open. */
export type Unbounded = 'below' | 'above' | 'both';

type Key = keyof Ci95;
const names: Record<Key, string> = { E: 'E', A: 'A', B: 'B', alpha: 'α', beta: 'β', a: 'a', b: 'b' };

export interface DiagnosisInput {
  runs: Observation[];
  law: ScalingLaw;
  ci95: Ci95 | null;
  isoflop: IsoflopFit | null;
  isoflopMissing: string | null;
  approachOneMissing: string | null;
  approaches: Array<{ approach: number; a: number; aCi95: [number, number] | null }>;
  /** how many budgets the runs form */
  budgets: number;
  floor: KnownFloor | null;
  backtest: Backtest | null;
  compute: ComputeMeasure;
}

export function diagnose(input: DiagnosisInput): { warnings: string[]; unbounded: Partial<Record<Key, Unbounded>> } {
  const { runs, law, ci95, isoflop } = input;
  const warnings: string[] = [];
  const unbounded: Partial<Record<Key, Unbounded>> = {};
  const open = (key: Key, end: 'below' | 'above') => {
    const now = unbounded[key];
    unbounded[key] = now && now !== end ? 'both' : end;
  };
  const lowest = Math.min(...runs.map((run) => run.loss));

  if (law.E < 1e-3 * lowest) {
    warnings.push(
      `E is at its lower bound (${formatSig(law.E)}, effectively 0): the runs do not constrain the loss floor; add a larger budget.`,
    );
    open('E', 'below');
    open('E', 'above');
  }
  for (const key of ['alpha', 'beta'] as const) {
    if (law[key] < 0.02 || law[key] > 2.5)
      warnings.push(
        `${names[key]} = ${formatSig(law[key])} is at the edge of what the fit allows: the runs do not constrain it; widen the sizes or the budgets.`,
      );
  }
  if (ci95) {
    for (const key of Object.keys(names) as Key[]) {
      const [low, high] = ci95[key];
      const value = key === 'a' || key === 'b' ? null : law[key];
      if (!Number.isFinite(low) || !Number.isFinite(high)) continue;
      if (high - low <= 1e-9 * Math.max(Math.abs(high), 1e-300)) {
        warnings.push(
          `The bootstrap interval of ${names[key]} has zero width (${formatSig(low)}): every resample landed on the same value, so the runs do not identify ${names[key]}; its interval is unbounded.`,
        );
        open(key, 'below');
        open(key, 'above');
        continue;
      }
      if (key === 'E' && low < 1e-3 * lowest && !unbounded.E) {
        open('E', 'below');
        warnings.push(
          `E's interval reaches 0 (${formatSig(low)} to ${formatSig(high)}): the runs bound the loss floor from above only; a larger budget would pin it down.`,
        );
      }
      if ((key === 'A' || key === 'B') && value !== null && high > 1e4 * value) open(key, 'above');
      if ((key === 'alpha' || key === 'beta') && high > 2.5) open(key, 'above');
    }
  }

  if (runs.length < 10)
    warnings.push(
      `Only ${runs.length} runs for the 5 parameters of L(N, D): the fit can pass through them without being identified; train 10 or more (3 sizes or more at each budget).`,
    );
  if (input.budgets < 3)
    warnings.push(
      `The runs form ${input.budgets} budget${input.budgets === 1 ? '' : 's'}: the exponents rest on too few budgets to be trusted; train at 3 or more.`,
    );

  if (input.isoflopMissing) warnings.push(`No IsoFLOP profiles: ${input.isoflopMissing}.`);
  if (input.approachOneMissing) warnings.push(`No approach 1: ${input.approachOneMissing}.`);
  if (isoflop) {
    const missed = isoflop.budgets.filter((budget) => budget.edge !== null);
    if (missed.length === isoflop.budgets.length)
      warnings.push(
        'Every budget has its lowest loss at its smallest or largest size: the sweep missed the valley everywhere, so approach 2 extrapolates; add the sizes it suggests.',
      );
    else if (missed.length > 0)
      warnings.push(
        `${missed.length} of ${isoflop.budgets.length} budgets ${missed.length === 1 ? 'has its' : 'have their'} lowest loss at an edge size (${missed.map((b) => formatFlops(b.flops)).join(', ')} FLOPs): add the sizes suggested for them.`,
      );
    if (!(isoflop.a > 0 && isoflop.a < 1))
      warnings.push(
        `Approach 2's a = ${formatSig(isoflop.a)} (b = ${formatSig(isoflop.b)}) lies outside 0 to 1: its parabola vertices do not move sensibly with compute; trust approach 3 and add sizes around each valley.`,
      );
  }

  // Approaches that disagree beyond their intervals.
  const withInterval = input.approaches.filter((row) => row.aCi95 !== null && Number.isFinite(row.a));
  for (let i = 0; i < withInterval.length; i++)
    for (let j = i + 1; j < withInterval.length; j++) {
      const x = withInterval[i] as (typeof withInterval)[number];
      const y = withInterval[j] as (typeof withInterval)[number];
      const [xl, xh] = x.aCi95 as [number, number];
      const [yl, yh] = y.aCi95 as [number, number];
      if (xh < yl || yh < xl)
        warnings.push(
          `Approaches ${x.approach} and ${y.approach} disagree beyond their intervals: a = ${formatSig(x.a)} [${formatSig(xl)}, ${formatSig(xh)}] against ${formatSig(y.a)} [${formatSig(yl)}, ${formatSig(yh)}].`,
        );
    }

  if (input.floor) {
    const { loss: floor, kind } = input.floor;
    const interval = ci95?.E;
    if (kind === 'noise' && interval && !unbounded.E && (interval[0] > floor || interval[1] < floor))
      warnings.push(
        `E's interval [${formatSig(interval[0])}, ${formatSig(interval[1])}] does not contain the data's known noise floor ${formatSig(floor)}: the fit's loss floor is off.`,
      );
    if (kind === 'entropy bound' && law.E > floor)
      warnings.push(
        `E = ${formatSig(law.E)} is above the generating process's entropy bound (${formatSig(floor)} nats): the true floor is lower, so the fit over-estimates it; larger budgets would bring it down.`,
      );
  }
  if (input.backtest?.flagged) warnings.push(input.backtest.verdict);
  if (input.compute.sixNdRatio) {
    const [low, high] = input.compute.sixNdRatio;
    if (low < 0.9 || high > 1.1)
      warnings.push(
        `6·N·D is ${low.toFixed(2)}–${high.toFixed(2)}x the runs' exact FLOPs; every budget here is counted in exact FLOPs.`,
      );
  }
  return { warnings, unbounded };
}

/** "[0.061, 0.134]", with an end the runs leave open written as such. */
export function formatInterval(interval: [number, number] | null, open?: Unbounded): string {
  if (!interval) return '';
  if (open === 'both') return '[unbounded]';
  const low = open === 'below' ? 'unbounded' : formatSig(interval[0]);
  const high = open === 'above' ? 'unbounded' : formatSig(interval[1]);
  return `[${low}, ${high}]`;
}

/**
 * An approach's interval for a or b. Approach 3's a and b are the law's, so an end the runs leave open is
 * written as such, as in the law's own table.
 */
export function approachInterval(
  row: { approach: number; aCi95: [number, number] | null; bCi95: [number, number] | null },
  key: 'a' | 'b',
  unbounded: Partial<Record<string, Unbounded>>,
): string {
  return formatInterval(key === 'a' ? row.aCi95 : row.bCi95, row.approach === 3 ? unbounded[key] : undefined);
}

/**
 * What a figure for a budget rests on: how far beyond the largest run it extrapolates, and whether its D*
 * repeats the data (Muennighoff et al.'s effective data).
 */
export function budgetNotes(
  flops: number,
  tokens: number,
  largestFlops: number,
  uniqueTokens: number | null,
  items: 'tokens' | 'rows' = 'tokens',
): string[] {
  const notes: string[] = [];
  const factor = flops / largestFlops;
  if (factor > 1.05) {
    // "3.3x", "250x", "10^13x": a power of ten from a thousand up (toPrecision would write 999.9 as 1.0e+3).
    const shown =
      factor >= 999.5
        ? `10^${Math.round(Math.log10(factor))}`
        : factor < 10
          ? factor.toPrecision(2)
          : formatCount(factor);
    notes.push(
      `${formatFlops(flops)} FLOPs is ${shown}x beyond your largest run (${formatFlops(largestFlops)} FLOPs): the law is extrapolated${factor > 100 ? ', far past what the runs can vouch for' : ''}.`,
    );
  }
  if (uniqueTokens && tokens > uniqueTokens) {
    const epochs = tokens / uniqueTokens;
    notes.push(
      `D* = ${formatSig(tokens)} ${items} is ${epochs < 1000 ? epochs.toFixed(1) : formatSig(epochs)} epochs of the dataset's ${formatSig(uniqueTokens)} unique training ${items}: repeated data is worth less; its effective size is ${formatSig(effectiveTokens(tokens, uniqueTokens))} ${items} (Muennighoff et al. 2023).`,
    );
  }
  return notes;
}
