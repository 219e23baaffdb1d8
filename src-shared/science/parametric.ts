import { minimize } from './lbfgs';

/**
 * Chinchilla's approach 3: L(N, D) = E + A / N^α + B / D^β, fitted by minimising the Huber loss
 * (δ = 1e-3) of log-space residuals, with the law written as
 *   log L = LSE(a − α log N, b − β log D, e),   A = exp(a), B = exp(b), E = exp(e),
 * and L-BFGS started from a grid of initialisations, keeping the best (Hoffmann et al. 2022,
 * appendix D.2; Besiroglu et al. 2024).
 */

export interface Observation {
  /** parameters */
  n: number;
  /** training tokens */
  d: number;
  loss: number;
}

export interface ScalingLaw {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

export interface ParametricFit extends ScalingLaw {
  /** the objective at the optimum (sum of Huber losses) */
  objective: number;
  /** initialisations tried */
  starts: number;
}

export const huberDelta = 1e-3;

export function predictLoss(law: ScalingLaw, n: number, d: number): number {
  return law.E + law.A / n ** law.alpha + law.B / d ** law.beta;
}

/** Sum of Huber losses of the log-space residuals, and its gradient, at θ = (a, b, e, α, β). */
export function huberObjective(data: Observation[], delta = huberDelta) {
  const logN = Float64Array.from(data, (o) => Math.log(o.n));
  const logD = Float64Array.from(data, (o) => Math.log(o.d));
  const logL = Float64Array.from(data, (o) => Math.log(o.loss));
  return (theta: Float64Array, gradient: Float64Array): number => {
    const [a, b, e, alpha, beta] = theta as unknown as [number, number, number, number, number];
    gradient.fill(0);
    let total = 0;
    for (let i = 0; i < logN.length; i++) {
      const t1 = a - alpha * (logN[i] as number);
      const t2 = b - beta * (logD[i] as number);
      const t3 = e;
      const m = Math.max(t1, t2, t3);
      const x1 = Math.exp(t1 - m);
      const x2 = Math.exp(t2 - m);
      const x3 = Math.exp(t3 - m);
      const sum = x1 + x2 + x3;
      const r = m + Math.log(sum) - (logL[i] as number);
      const absR = Math.abs(r);
      total += absR <= delta ? 0.5 * r * r : delta * (absR - 0.5 * delta);
      const dr = absR <= delta ? r : delta * Math.sign(r);
      const w1 = x1 / sum;
      const w2 = x2 / sum;
      const w3 = x3 / sum;
      gradient[0] = (gradient[0] as number) + dr * w1;
      gradient[1] = (gradient[1] as number) + dr * w2;
      gradient[2] = (gradient[2] as number) + dr * w3;
      gradient[3] = (gradient[3] as number) - dr * w1 * (logN[i] as number);
      gradient[4] = (gradient[4] as number) - dr * w2 * (logD[i] as number);
    }
    return total;
  };
}

/** Chinchilla's grid: α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}. */
export function chinchillaGrid(): number[][] {
  const starts: number[][] = [];
  for (const alpha of [0, 0.5, 1, 1.5, 2])
    for (const beta of [0, 0.5, 1, 1.5, 2])
      for (const e of [-1, -0.5, 0, 0.5, 1])
        for (const a of [0, 5, 10, 15, 20, 25])
          for (const b of [0, 5, 10, 15, 20, 25]) starts.push([a, b, e, alpha, beta]);
  return starts;
}

function toLaw(theta: Float64Array): ScalingLaw {
  const [a, b, e, alpha, beta] = theta as unknown as [number, number, number, number, number];
  return { A: Math.exp(a), B: Math.exp(b), E: Math.exp(e), alpha, beta };
}

export function lawToTheta(law: ScalingLaw): number[] {
  return [Math.log(law.A), Math.log(law.B), Math.log(law.E), law.alpha, law.beta];
}

const lbfgsOptions = { maxIterations: 1000, gradientTolerance: 1e-12, valueTolerance: 1e-15 };

/** How many of the grid's starts, the best by objective value, L-BFGS runs from. */
export const refinedStarts = 128;

/**
 * Fits the law and keeps the best optimum. The whole grid is scored first (cheap) and L-BFGS runs from
 * the `refine` best starts; pass one start (a previous optimum) to warm-start a bootstrap resample.
 */
export function fitParametric(
  data: Observation[],
  starts: number[][] = chinchillaGrid(),
  delta = huberDelta,
  refine = refinedStarts,
): ParametricFit {
  if (data.length < 5) throw new RangeError(`a parametric fit needs at least 5 runs, not ${data.length}`);
  const objective = huberObjective(data, delta);
  const scratch = new Float64Array(5);
  const ranked = starts
    .map((start) => ({ start, value: objective(Float64Array.from(start), scratch) }))
    .filter((entry) => Number.isFinite(entry.value))
    .sort((x, y) => x.value - y.value)
    .slice(0, refine);
  let best: { theta: Float64Array; value: number } | null = null;
  for (const { start } of ranked) {
    const result = minimize(objective, start, lbfgsOptions);
    if (Number.isFinite(result.value) && (!best || result.value < best.value))
      best = { theta: result.x, value: result.value };
  }
  if (!best) throw new Error('the parametric fit did not converge from any start');
  return { ...toLaw(best.theta), objective: best.value, starts: starts.length };
}

/**
 * How training compute relates to N and D: C = k · N^p · D. Chinchilla's 6ND is k = 6, p = 1; a small
 * transformer spends more per token than 6N (attention, embeddings, the unembedding), so a sweep's exact
 * FLOP counts give a k and p of their own (`fitComputeModel`), and every budget is then spent in those FLOPs.
 */
export interface ComputeModel {
  k: number;
  p: number;
}

export const sixND: ComputeModel = { k: 6, p: 1 };

/**
 * The compute-optimal split of C = k N^p D under a law: minimising E + A N^-α + B (C / k N^p)^-β over N
 * gives N* = G (C/k)^a with a = β / (α + pβ), G = (αA / (pβB))^(1/(α+pβ)), and D* = C / (k N*^p).
 */
export function computeOptimal(
  law: ScalingLaw,
  flops: number,
  compute: ComputeModel = sixND,
): { params: number; tokens: number; tokensPerParam: number; loss: number } {
  const { A, B, alpha, beta } = law;
  const { k, p } = compute;
  const a = beta / (alpha + p * beta);
  const G = ((alpha * A) / (p * beta * B)) ** (1 / (alpha + p * beta));
  const params = G * (flops / k) ** a;
  const tokens = flops / (k * params ** p);
  return { params, tokens, tokensPerParam: tokens / params, loss: predictLoss(law, params, tokens) };
}

/** N* ∝ C^a and D* ∝ C^b under a law; a + b = 1 for 6ND. */
export function exponents(law: ScalingLaw, compute: ComputeModel = sixND): { a: number; b: number } {
  const a = law.beta / (law.alpha + compute.p * law.beta);
  return { a, b: 1 - compute.p * a };
}
