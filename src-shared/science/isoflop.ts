import { Random } from '../random';
import { interval95, linearFit, parabolaFit } from './stats';

/**
 * Chinchilla's approach 2: at each compute budget, a parabola of loss against log N; its vertex is the
 * compute-optimal size for that budget. Power laws through the vertices give N* ∝ C^a and D* ∝ C^b.
 */

export interface Run {
  params: number;
  tokens: number;
  loss: number;
}

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

export interface IsoflopFit {
  budgets: BudgetProfile[];
  a: number;
  b: number;
  aCi95: [number, number];
  bCi95: [number, number];
}

const flopsOf = (run: Run) => 6 * run.params * run.tokens;

/** Runs whose compute agrees within 10%, with at least three sizes, form one budget. */
export function groupByBudget(runs: Run[]): Run[][] {
  const sorted = [...runs].sort((x, y) => flopsOf(x) - flopsOf(y));
  const groups: Run[][] = [];
  for (const run of sorted) {
    const group = groups.at(-1);
    if (group && Math.log(flopsOf(run) / flopsOf(group[0] as Run)) < Math.log(1.1)) group.push(run);
    else groups.push([run]);
  }
  return groups.filter((group) => new Set(group.map((run) => run.params)).size >= 3);
}

function vertex(runs: Run[], flops: number): { params: number; tokens: number; loss: number } | null {
  const x = runs.map((run) => Math.log(run.params));
  const { c0, c1, c2 } = parabolaFit(
    x,
    runs.map((run) => run.loss),
  );
  if (!(c2 > 0)) return null;
  const at = -c1 / (2 * c2);
  const params = Math.exp(at);
  return { params, tokens: flops / (6 * params), loss: c0 + c1 * at + c2 * at * at };
}

function geometricMean(values: number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

function profile(runs: Run[]): Omit<BudgetProfile, 'paramsCi95'> {
  const flops = geometricMean(runs.map(flopsOf));
  const best = vertex(runs, flops);
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

/** Returns null when the runs do not form at least two IsoFLOP budgets. */
export function fitIsoflop(runs: Run[], bootstrap = 200, seed = 1): IsoflopFit | null {
  const groups = groupByBudget(runs);
  if (groups.length < 2) return null;
  const profiles = groups.map(profile);
  const { a, b } = powerLaws(profiles);
  const random = new Random(seed);
  const samples: Array<{ a: number; b: number; params: Array<number | null> }> = [];
  for (let i = 0; i < bootstrap; i++) {
    // Resample runs within each budget, as the budgets themselves were chosen, not drawn.
    const resampled = groups.map((group) => {
      const picked = group.map(() => group[random.int(group.length)] as Run);
      const flops = geometricMean(group.map(flopsOf));
      return { flops, ...(vertex(picked, flops) ?? { params: null, tokens: null }) };
    });
    samples.push({ ...powerLaws(resampled), params: resampled.map((r) => r.params) });
  }
  return {
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
export function fitEnvelope(points: Array<{ flops: number; loss: number; params: number }>, bins = 30) {
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
      envelope.map((p) => Math.log(p.flops / (6 * p.params))),
    ).slope,
  };
}
