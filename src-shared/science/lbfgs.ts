/**
 * L-BFGS (Nocedal & Wright, algorithm 7.4) with a line search that enforces the strong Wolfe
 * conditions (algorithm 3.5/3.6 with cubic-free bisection zoom). Small, dependency-free: the npm
 * registry offers no maintained L-BFGS for JavaScript.
 */

export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimizeOptions {
  maxIterations: number;
  /** stop when the gradient's largest component is below this */
  gradientTolerance: number;
  /** stop when the objective improves by less than this, relatively */
  valueTolerance: number;
  memory: number;
}

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

const defaults: MinimizeOptions = { maxIterations: 500, gradientTolerance: 1e-9, valueTolerance: 1e-14, memory: 10 };

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

export function minimize(
  f: Objective,
  start: ArrayLike<number>,
  options: Partial<MinimizeOptions> = {},
): MinimizeResult {
  const { maxIterations, gradientTolerance, valueTolerance, memory } = { ...defaults, ...options };
  const n = start.length;
  let x: Float64Array = Float64Array.from(start);
  let g: Float64Array = new Float64Array(n);
  let value = f(x, g);
  if (!Number.isFinite(value)) return { x, value, iterations: 0, converged: false };
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const direction = new Float64Array(n);
  const alpha = new Float64Array(memory);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    if (maxAbs(g) < gradientTolerance) return { x, value, iterations: iteration - 1, converged: true };
    // Two-loop recursion: direction = -H g
    for (let i = 0; i < n; i++) direction[i] = -(g[i] as number);
    for (let k = s.length - 1; k >= 0; k--) {
      const a = (rho[k] as number) * dot(s[k] as Float64Array, direction);
      alpha[k] = a;
      const yk = y[k] as Float64Array;
      for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) - a * (yk[i] as number);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma =
        dot(s[last] as Float64Array, y[last] as Float64Array) / dot(y[last] as Float64Array, y[last] as Float64Array);
      for (let i = 0; i < n; i++) direction[i] = (direction[i] as number) * gamma;
    }
    for (let k = 0; k < s.length; k++) {
      const b = (rho[k] as number) * dot(y[k] as Float64Array, direction);
      const sk = s[k] as Float64Array;
      for (let i = 0; i < n; i++)
        direction[i] = (direction[i] as number) + ((alpha[k] as number) - b) * (sk[i] as number);
    }
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information went bad): restart from steepest descent.
      s.length = 0;
      y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -(g[i] as number);
      slope = dot(g, direction);
    }
    const initialStep = s.length === 0 ? Math.min(1, 1 / Math.max(1e-12, maxAbs(g))) : 1;
    const step = wolfeLineSearch(f, x, value, g, direction, slope, initialStep);
    if (!step) return { x, value, iterations: iteration, converged: maxAbs(g) < Math.sqrt(gradientTolerance) };
    const sNew = new Float64Array(n);
    const yNew = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sNew[i] = (step.x[i] as number) - (x[i] as number);
      yNew[i] = (step.gradient[i] as number) - (g[i] as number);
    }
    const sy = dot(sNew, yNew);
    if (sy > 1e-16) {
      if (s.length === memory) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sNew);
      y.push(yNew);
      rho.push(1 / sy);
    }
    const improvement = value - step.value;
    x = step.x;
    g = step.gradient;
    const previous = value;
    value = step.value;
    if (improvement <= valueTolerance * Math.max(1, Math.abs(previous)))
      return { x, value, iterations: iteration, converged: true };
  }
  return { x, value, iterations: maxIterations, converged: false };
}

interface LinePoint {
  t: number;
  x: Float64Array;
  value: number;
  gradient: Float64Array;
  slope: number;
}

function wolfeLineSearch(
  f: Objective,
  x: Float64Array,
  value: number,
  gradient: Float64Array,
  direction: Float64Array,
  slope: number,
  initialStep: number,
): { x: Float64Array; value: number; gradient: Float64Array } | null {
  const c1 = 1e-4;
  const c2 = 0.9;
  const evaluate = (t: number): LinePoint => {
    const point = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) point[i] = (x[i] as number) + t * (direction[i] as number);
    const g = new Float64Array(x.length);
    const v = f(point, g);
    return {
      t,
      x: point,
      value: Number.isFinite(v) ? v : Number.POSITIVE_INFINITY,
      gradient: g,
      slope: dot(g, direction),
    };
  };
  const zoom = (low: LinePoint, high: LinePoint): LinePoint | null => {
    for (let i = 0; i < 40; i++) {
      const mid = evaluate((low.t + high.t) / 2);
      if (mid.value > value + c1 * mid.t * slope || mid.value >= low.value) high = mid;
      else {
        if (Math.abs(mid.slope) <= -c2 * slope) return mid;
        if (mid.slope * (high.t - low.t) >= 0) high = low;
        low = mid;
      }
    }
    return low.t > 0 && low.value < value ? low : null;
  };
  let previous: LinePoint = { t: 0, x, value, gradient, slope };
  let t = initialStep;
  for (let i = 0; i < 40; i++) {
    const current = evaluate(t);
    if (current.value > value + c1 * t * slope || (i > 0 && current.value >= previous.value)) {
      return zoom(previous, current);
    }
    if (Math.abs(current.slope) <= -c2 * slope) return current;
    if (current.slope >= 0) return zoom(current, previous);
    previous = current;
    t *= 2;
  }
  return previous.t > 0 ? previous : null;
}
