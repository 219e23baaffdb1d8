import { Random } from '../random';
import { type ComputeModel, sixND } from './parametric';
import { interval95, linearFit, parabolaFit, resampleWithin } from './stats';

/**
 * Chinchilla's approach 2: at each compute budget, a parabola of loss against log N; its vertex is the
 * compute-optimal size for that budget. Power laws through the vertices give N* ∝ C^a and D* ∝ C^b.
 */

export interface Run {
  params: number;
  tokens: number;
  loss: number;
  /** training FLOPs by the engine's exact accounting (or a CSV's flops column) */
  flops?: number;
  /** the budget the run was planned for: a sweep's runs */
  budget?: number;
}

/** How runs were put into budgets: by the sweep's plan, by their FLOPs within 10%, or by 6·N·D within 10%. */
export type Grouping = 'planned budget' | 'flops' | '6ND';

export interface BudgetProfile {
  flops: number;
  runs: Run[];
  /** vertex of the fitted parabola; null when the runs do not curve upwards */
  params: number | null;
  tokens: number | null;
  loss: number | null;
  /** the smallest loss sits at the smallest or largest size tried: the sweep missed the valley */
  edge: 'smaller' | 'larger' | null;
  /** sizes to add when the valley was missed */
  suggestedParams: number[];
  paramsCi95: [number, number] | null;
}

/**
 * Whether a budget's fitted minimum lies within the sizes it trained: one outside them is the parabola's
 * extrapolation (a shallow or one-sided profile), which a chart should not show as a measured optimum.
 */
export function vertexInsideSizes(profile: Pick<BudgetProfile, 'params' | 'runs'>): boolean {
  if (profile.params === null) return false;
  const sizes = profile.runs.map((run) => run.params);
  return profile.params >= Math.min(...sizes) && profile.params <= Math.max(...sizes);
}

export interface IsoflopFit {
  groupedBy: Grouping;
  /** runs in the budgets used (a budget needs at least three sizes) */
  runsUsed: number;
  budgets: BudgetProfile[];
  a: number;
  b: number;
  aCi95: [number, number];
  bCi95: [number, number];
}

/** The measure runs are grouped by: their plan where every run has one, else FLOPs, else 6·N·D. */
export function groupingOf(runs: Run[]): Grouping {
  if (runs.length > 0 && runs.every((run) => run.budget !== undefined)) return 'planned budget';
  if (runs.length > 0 && runs.every((run) => run.flops !== undefined)) return 'flops';
  return '6ND';
}

function computeOf(run: Run, by: Grouping): number {
  if (by === 'planned budget') return run.budget as number;
  if (by === 'flops') return run.flops as number;
  return 6 * run.params * run.tokens;
}

/**
 * Every run's budget: a sweep's planned budget exactly; otherwise runs whose compute agrees within 10%.
 * All groups, in order of compute; `groupByBudget` keeps those with three sizes or more.
 */
export function budgetGroups(runs: Run[], by: Grouping = groupingOf(runs)): Array<{ flops: number; runs: Run[] }> {
  const sorted = [...runs].sort((x, y) => computeOf(x, by) - computeOf(y, by));
  const groups: Run[][] = [];
  for (const run of sorted) {
    const group = groups.at(-1);
    const first = group?.[0];
    const same =
      first !== undefined &&
      (by === 'planned budget'
        ? computeOf(run, by) === computeOf(first, by)
        : Math.log(computeOf(run, by) / computeOf(first, by)) < Math.log(1.1));
    if (group && same) group.push(run);
    else groups.push([run]);
  }
  return groups.map((group) => ({
    flops:
      by === 'planned budget' ? computeOf(group[0] as Run, by) : geometricMean(group.map((run) => computeOf(run, by))),
    runs: group,
  }));
}

const sizesIn = (runs: Run[]) => new Set(runs.map((run) => run.params)).size;

export function groupByBudget(runs: Run[]): Run[][] {
  return budgetGroups(runs)
    .filter((group) => sizesIn(group.runs) >= 3)
    .map((group) => group.runs);
}

/** Why approach 2 cannot fit these runs, in a sentence; null when it can. */
export function whyNoIsoflop(runs: Run[]): string | null {
  const by = groupingOf(runs);
  const groups = budgetGroups(runs, by);
  const usable = groups.filter((group) => sizesIn(group.runs) >= 3);
  if (usable.length >= 2) return null;
  const measure =
    by === 'planned budget' ? 'their planned budget' : by === 'flops' ? 'their FLOPs within 10%' : '6·N·D within 10%';
  const sizes = groups.map((group) => sizesIn(group.runs)).join(', ');
  return (
    `approach 2 (IsoFLOP profiles) needs at least 2 budgets of 3 or more sizes; grouped by ${measure}, ` +
    `the ${runs.length} runs form ${groups.length} budget${groups.length === 1 ? '' : 's'} with ${sizes} size${groups.length === 1 && sizes === '1' ? '' : 's'}: ` +
    'train at least 3 sizes at each of 2 or more budgets'
  );
}

function vertex(
  runs: Run[],
  flops: number,
  compute: ComputeModel,
): { params: number; tokens: number; loss: number } | null {
  const x = runs.map((run) => Math.log(run.params));
  const { c0, c1, c2 } = parabolaFit(
    x,
    runs.map((run) => run.loss),
  );
  if (!(c2 > 0)) return null;
  const at = -c1 / (2 * c2);
  const params = Math.exp(at);
  return { params, tokens: flops / (compute.k * params ** compute.p), loss: c0 + c1 * at + c2 * at * at };
}

function geometricMean(values: number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

function profile(runs: Run[], flops: number, compute: ComputeModel): Omit<BudgetProfile, 'paramsCi95'> {
  const best = vertex(runs, flops, compute);
  const sizes = [...new Set(runs.map((run) => run.params))].sort((a, b) => a - b);
  const lowest = runs.reduce((m, run) => (run.loss < m.loss ? run : m));
  const edge = lowest.params === sizes[0] ? 'smaller' : lowest.params === sizes.at(-1) ? 'larger' : null;
  const step = Math.exp(Math.log((sizes.at(-1) as number) / (sizes[0] as number)) / Math.max(1, sizes.length - 1));
  const suggestedParams =
    edge === 'smaller'
      ? [(sizes[0] as number) / step, (sizes[0] as number) / step ** 2]
      : edge === 'larger'
        ? [(sizes.at(-1) as number) * step, (sizes.at(-1) as number) * step ** 2]
        : [];
  return {
    flops,
    runs,
    params: best?.params ?? null,
    tokens: best?.tokens ?? null,
    loss: best?.loss ?? null,
    edge,
    suggestedParams: suggestedParams.map(Math.round),
  };
}

function powerLaws(profiles: Array<{ flops: number; params: number | null; tokens: number | null }>): {
  a: number;
  b: number;
} {
  const usable = profiles.filter((p) => p.params !== null && p.tokens !== null);
  if (usable.length < 2) return { a: Number.NaN, b: Number.NaN };
  const logC = usable.map((p) => Math.log(p.flops));
  return {
    a: linearFit(
      logC,
      usable.map((p) => Math.log(p.params as number)),
    ).slope,
    b: linearFit(
      logC,
      usable.map((p) => Math.log(p.tokens as number)),
    ).slope,
  };
}

/** Returns null when the runs do not form at least two IsoFLOP budgets (`whyNoIsoflop` says why). */
export function fitIsoflop(runs: Run[], bootstrap = 200, seed = 1, compute: ComputeModel = sixND): IsoflopFit | null {
  const groupedBy = groupingOf(runs);
  const usable = budgetGroups(runs, groupedBy).filter((group) => sizesIn(group.runs) >= 3);
  if (usable.length < 2) return null;
  const groups = usable.map((group) => group.runs);
  const profiles = usable.map((group) => profile(group.runs, group.flops, compute));
  const { a, b } = powerLaws(profiles);
  const random = new Random(seed);
  const samples: Array<{ a: number; b: number; params: Array<number | null> }> = [];
  for (let i = 0; i < bootstrap; i++) {
    // Resample runs within each budget, as the budgets themselves were chosen, not drawn.
    const resampled = usable.map(({ runs: group, flops }) => {
      return { flops, ...(vertex(resampleWithin([group], random), flops, compute) ?? { params: null, tokens: null }) };
    });
    samples.push({ ...powerLaws(resampled), params: resampled.map((r) => r.params) });
  }
  return {
    groupedBy,
    runsUsed: groups.reduce((sum, group) => sum + group.length, 0),
    budgets: profiles.map((p, i) => ({
      ...p,
      paramsCi95: p.params === null ? null : interval95(samples.map((s) => s.params[i] ?? Number.NaN)),
    })),
    a,
    b,
    aCi95: interval95(samples.map((s) => s.a)),
    bCi95: interval95(samples.map((s) => s.b)),
  };
}

/**
 * Approach 1: the lower envelope of loss against compute over every run's curve, and the size that
 * attains it; N* ∝ C^a fitted through the envelope.
 */
export function fitEnvelope(
  points: Array<{ flops: number; loss: number; params: number }>,
  bins = 30,
  compute: ComputeModel = sixND,
) {
  if (points.length < 4) return null;
  const logs = points.map((p) => Math.log(p.flops));
  const low = Math.min(...logs);
  const high = Math.max(...logs);
  const width = (high - low) / bins || 1;
  const best = new Map<number, { flops: number; loss: number; params: number }>();
  for (const point of points) {
    const bin = Math.min(bins - 1, Math.floor((Math.log(point.flops) - low) / width));
    const current = best.get(bin);
    if (!current || point.loss < current.loss) best.set(bin, point);
  }
  // Keep only points that lower the best loss seen so far: the envelope falls with compute.
  const envelope: Array<{ flops: number; loss: number; params: number }> = [];
  for (const bin of [...best.keys()].sort((x, y) => x - y)) {
    const point = best.get(bin) as { flops: number; loss: number; params: number };
    if (envelope.length === 0 || point.loss < (envelope.at(-1) as { loss: number }).loss) envelope.push(point);
  }
  if (new Set(envelope.map((p) => p.params)).size < 2) return { envelope, a: Number.NaN, b: Number.NaN };
  const logC = envelope.map((p) => Math.log(p.flops));
  return {
    envelope,
    a: linearFit(
      logC,
      envelope.map((p) => Math.log(p.params)),
    ).slope,
    b: linearFit(
      logC,
      envelope.map((p) => Math.log(p.flops / (compute.k * p.params ** compute.p))),
    ).slope,
  };
}
