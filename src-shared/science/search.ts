import type { Random } from '../random';

/**
 * Hyper-parameter search: a space, and samplers that propose the next trial from the finished ones.
 * TPE follows Optuna's defaults (Bergstra et al. 2011; Optuna's TPESampler): 10 random start-up trials,
 * the best γ(n) = min(⌈0.1 n⌉, 25) trials are "good", 24 candidates drawn from the good density
 * l(x), and the one maximising l(x) / g(x) is proposed. Lower values are better.
 */

export type Dimension =
  | { type: 'float'; min: number; max: number }
  | { type: 'log'; min: number; max: number }
  | { type: 'int'; min: number; max: number }
  | { type: 'choice'; values: Array<number | string> };

export type Space = Record<string, Dimension>;
export type Params = Record<string, number | string>;
export interface Trial {
  params: Params;
  value: number;
}

export function validateSpace(space: Space): void {
  const names = Object.keys(space);
  if (names.length === 0) throw new RangeError('the search space is empty: name at least one parameter');
  for (const [name, dim] of Object.entries(space)) {
    if (dim.type === 'choice') {
      if (dim.values.length === 0) throw new RangeError(`"${name}" has no values to choose from`);
      continue;
    }
    if (!(dim.min < dim.max))
      throw new RangeError(`"${name}" has an empty range: min ${dim.min} is not below max ${dim.max}`);
    if (dim.type === 'log' && dim.min <= 0)
      throw new RangeError(`"${name}" is log-scaled, so its min must be above 0, not ${dim.min}`);
    if (name === 'learningRate' && dim.min <= 0)
      throw new RangeError(`"learningRate" must be positive, not ${dim.min}`);
  }
}

/** Every parameter at its largest (a choice's largest number, else its first value): the costliest trial. */
export function largestParams(space: Space): Params {
  return Object.fromEntries(
    Object.entries(space).map(([name, dim]) => {
      if (dim.type !== 'choice') return [name, dim.max];
      const numbers = dim.values.filter((v): v is number => typeof v === 'number');
      return [name, numbers.length > 0 ? Math.max(...numbers) : (dim.values[0] as number | string)];
    }),
  );
}

/** Each dimension as a number in [0, 1] (choices: an index), so densities work the same way. */
function toUnit(dim: Dimension, value: number | string): number {
  if (dim.type === 'choice') return dim.values.indexOf(value);
  const v = value as number;
  if (dim.type === 'log') return (Math.log(v) - Math.log(dim.min)) / (Math.log(dim.max) - Math.log(dim.min));
  return (v - dim.min) / (dim.max - dim.min);
}

function fromUnit(dim: Dimension, u: number): number | string {
  const clamped = Math.min(1, Math.max(0, u));
  if (dim.type === 'choice')
    return dim.values[Math.min(dim.values.length - 1, Math.max(0, Math.round(u)))] as number | string;
  if (dim.type === 'log') return Math.exp(Math.log(dim.min) + clamped * (Math.log(dim.max) - Math.log(dim.min)));
  if (dim.type === 'int') return Math.round(dim.min + clamped * (dim.max - dim.min));
  return dim.min + clamped * (dim.max - dim.min);
}

export function sampleRandom(space: Space, random: Random): Params {
  const params: Params = {};
  for (const [name, dim] of Object.entries(space)) {
    params[name] =
      dim.type === 'choice'
        ? (dim.values[random.int(dim.values.length)] as number | string)
        : fromUnit(dim, random.next());
  }
  return params;
}

/** The most grid points a study may hold: a grid is counted before it is built, never built whole. */
export const maxGridPoints = 100_000;

function levelsOf(dim: Dimension, steps: number): Array<number | string> {
  if (dim.type === 'choice') return dim.values;
  return [...new Set(Array.from({ length: steps }, (_, i) => fromUnit(dim, steps === 1 ? 0.5 : i / (steps - 1))))];
}

/** How many points the grid has: the product of each dimension's levels (may exceed 2^53: then Infinity-ish). */
export function gridSize(space: Space, steps = 3): number {
  let size = 1;
  for (const dim of Object.values(space)) size *= levelsOf(dim, steps).length;
  return size;
}

/**
 * The grid's point `index` (0-based), computed directly: the last dimension varies fastest, as nested loops
 * over the dimensions in order would give.
 */
export function gridPoint(space: Space, index: number, steps = 3): Params {
  const dims = Object.entries(space).map(([name, dim]) => [name, levelsOf(dim, steps)] as const);
  const point: Params = {};
  let rest = index;
  for (let d = dims.length - 1; d >= 0; d--) {
    const [name, levels] = dims[d] as (typeof dims)[number];
    point[name] = levels[rest % levels.length] as number | string;
    rest = Math.floor(rest / levels.length);
  }
  // Keep the dimensions in the space's order.
  return Object.fromEntries(dims.map(([name]) => [name, point[name] as number | string]));
}

/** Every combination, with `steps` levels per numeric dimension (small grids only: see gridSize). */
export function gridPoints(space: Space, steps = 3): Params[] {
  const size = gridSize(space, steps);
  if (size > maxGridPoints) throw new RangeError(`the grid has ${size} points, more than ${maxGridPoints}`);
  return Array.from({ length: size }, (_, i) => gridPoint(space, i, steps));
}

const startupTrials = 10;
const candidates = 24;

export function gamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** A Parzen estimator on [0, 1]: Gaussians at the observations plus a uniform prior, Scott-like bandwidth. */
function parzen(points: number[]): { sample(random: Random): number; logDensity(x: number): number } {
  const n = points.length;
  const sigma = Math.max(0.05, Math.min(1, 1 / Math.max(1, n) ** 0.2) * 0.3);
  return {
    sample(random) {
      const pick = random.int(n + 1);
      if (pick === n) return random.next();
      return (points[pick] as number) + sigma * random.normal();
    },
    logDensity(x) {
      let density = 1 / (n + 1); // the prior's share, uniform on [0, 1]
      for (const p of points)
        density += Math.exp(-0.5 * ((x - p) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI)) / (n + 1);
      return Math.log(density);
    },
  };
}

function categorical(indices: number[], size: number) {
  const counts = new Array(size).fill(1); // a prior count of one per choice
  for (const i of indices) counts[i]++;
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    sample(random: Random): number {
      let u = random.next() * total;
      for (let i = 0; i < size; i++) {
        u -= counts[i];
        if (u < 0) return i;
      }
      return size - 1;
    },
    logDensity: (i: number) => Math.log(counts[Math.round(i)] / total),
  };
}

export function sampleTpe(space: Space, trials: Trial[], random: Random, pending: Params[] = []): Params {
  const finished = trials.filter((t) => Number.isFinite(t.value));
  if (finished.length < startupTrials) return sampleRandom(space, random);
  const sorted = [...finished].sort((a, b) => a.value - b.value);
  const cut = gamma(sorted.length);
  const good = sorted.slice(0, cut);
  // Trials still running elsewhere join the bad group (Optuna's constant liar, at the worst value), so
  // that trials proposed side by side do not all land on the same point.
  const bad = [...sorted.slice(cut), ...pending.map((params) => ({ params, value: Number.POSITIVE_INFINITY }))];
  // Independent TPE, one dimension at a time, as Optuna does by default.
  const params: Params = {};
  for (const [name, dim] of Object.entries(space)) {
    const unit = (ts: Trial[]) => ts.map((t) => toUnit(dim, t.params[name] as number | string));
    const l = dim.type === 'choice' ? categorical(unit(good), dim.values.length) : parzen(unit(good));
    const g = dim.type === 'choice' ? categorical(unit(bad), dim.values.length) : parzen(unit(bad));
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < candidates; c++) {
      const x = l.sample(random);
      const score = l.logDensity(x) - g.logDensity(x);
      if (score > bestScore) {
        bestScore = score;
        best = x;
      }
    }
    params[name] = fromUnit(dim, best);
  }
  return params;
}
