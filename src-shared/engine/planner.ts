import type { BackendName, DatasetManifest, ModelSpec, PlannedRun, RunRecord } from '../contract';
import { formatCount } from '../format';
import { gptForParams, mlpForParams } from './ladder';
import { gptFlops, gptParamCount } from './models/gpt';
import { mlpFlops, mlpParamCount } from './models/mlp';

/**
 * An IsoFLOP sweep plan: for each compute budget, model sizes spanning the expected optimum, each
 * trained on exactly the tokens its budget buys (from the exact FLOP count, not 6ND).
 */

export interface PlanRequest {
  dataset: DatasetManifest;
  budgets: number[];
  sizesPerBudget: number;
  batchSize: number;
  /** GPT only */
  contextLength?: number;
}

/** Epochs over the unique training data beyond which repetition stops paying (Muennighoff et al. 2023). */
export const maxUsefulEpochs = 4;

function modelFor(dataset: DatasetManifest, params: number, contextLength: number): ModelSpec {
  if (dataset.kind === 'table') {
    const outputs = dataset.task === 'classification' ? (dataset.target.classes?.length ?? 2) : 1;
    return {
      family: 'mlp',
      ...mlpForParams(params, {
        inputs: dataset.features,
        depth: 2,
        activation: 'tanh',
        dropout: 0,
        task: dataset.task,
        outputs,
      }),
    };
  }
  const shape = gptForParams(params, {
    vocabSize: dataset.tokenizer.vocabSize,
    contextLength,
    positions: 'learned',
    tiedEmbeddings: true,
    dropout: 0,
    embedding: dataset.tokenizer.vocabSize <= 512 ? 'onehot' : 'gather',
  });
  return { family: 'gpt', ...shape };
}

export function accountFor(model: ModelSpec): { params: number; flopsPerToken: number } {
  if (model.family === 'mlp') return { params: mlpParamCount(model).total, flopsPerToken: mlpFlops(model).perToken };
  return { params: gptParamCount(model).total, flopsPerToken: gptFlops(model).perToken };
}

export function planSweep(request: PlanRequest): PlannedRun[] {
  const { dataset, budgets, sizesPerBudget, batchSize } = request;
  const contextLength = request.contextLength ?? 64;
  const tokensPerStep = dataset.kind === 'table' ? batchSize : batchSize * contextLength;
  const unique = dataset.kind === 'table' ? dataset.splits.train.rows : dataset.splits.train.tokens;
  const plan: PlannedRun[] = [];
  for (const budget of [...budgets].sort((a, b) => a - b)) {
    // Centre on Chinchilla's ~20 tokens per parameter (C ≈ 120 N²) and reach well below it: small
    // models on cheap data often want far more tokens per parameter.
    const centre = Math.sqrt(budget / 120);
    const low = centre / 30;
    const high = centre * 3;
    const seen = new Set<number>();
    for (let k = 0; k < sizesPerBudget; k++) {
      const target = low * (high / low) ** (sizesPerBudget === 1 ? 0.5 : k / (sizesPerBudget - 1));
      const model = modelFor(dataset, Math.max(10, target), contextLength);
      const { params, flopsPerToken } = accountFor(model);
      if (seen.has(params)) continue;
      seen.add(params);
      const tokens = budget / flopsPerToken;
      const steps = Math.max(1, Math.round(tokens / tokensPerStep));
      const epochs = tokens / unique;
      const warnings: string[] = [];
      if (epochs > maxUsefulEpochs)
        warnings.push(
          `repeats the training data ${epochs.toFixed(1)} times (more than ${maxUsefulEpochs} epochs add little)`,
        );
      if (steps < 50) warnings.push(`only ${steps} steps: too few to train; raise the budget or shrink the batch`);
      if (tokens / params < 1) warnings.push('fewer tokens than parameters: far too large for this budget');
      plan.push({
        budgetFlops: budget,
        label: `${budget.toExponential(0)} FLOPs · ${formatCount(params)} params`,
        model,
        params,
        flopsPerToken,
        tokens,
        steps,
        tokensPerParam: tokens / params,
        epochs,
        warnings,
      });
    }
  }
  return plan;
}

export interface MeasuredThroughput {
  backend: BackendName;
  /** wall time ≈ secondsPerStep · steps + FLOPs / flopsPerSecond, fitted to the completed runs */
  secondsPerStep: number;
  /** null when the runs' wall time is all per-step cost (FLOPs explain none of it) */
  flopsPerSecond: number | null;
  /** how many completed runs it was fitted to */
  runs: number;
}

/**
 * The speed this machine has shown, per backend, for one model family. A run's wall time is modelled as a
 * cost per step (dispatch, evaluations, start-up spread over the run: what dominates small models) plus
 * its FLOPs at a sustained rate (what dominates large ones), fitted by non-negative least squares in
 * relative terms to the completed runs. The planner's estimate for a run is that model at its steps and FLOPs.
 */
export function measuredThroughput(runs: RunRecord[], family: ModelSpec['family']): MeasuredThroughput[] {
  const byBackend = new Map<BackendName, Array<{ steps: number; flops: number; seconds: number }>>();
  for (const run of runs) {
    const backend = run.environment?.backend;
    const result = run.result;
    if (run.status !== 'completed' || !backend || !result || run.config.model.family !== family) continue;
    if (!(result.wallSeconds > 0) || !(result.flops > 0) || !(result.step > 0)) continue;
    const list = byBackend.get(backend) ?? [];
    list.push({ steps: result.step, flops: result.flops, seconds: result.wallSeconds });
    byBackend.set(backend, list);
  }
  return [...byBackend].map(([backend, points]) => ({ backend, ...fitSpeed(points), runs: points.length }));
}

/** Minimises Σ ((a·steps + b·flops) / seconds − 1)² over a, b ≥ 0: each run counts by its relative error. */
function fitSpeed(points: Array<{ steps: number; flops: number; seconds: number }>): {
  secondsPerStep: number;
  flopsPerSecond: number | null;
} {
  // Rows u = steps/seconds, v = flops/seconds; solve [Σuu Σuv; Σuv Σvv] [a b] = [Σu Σv].
  let uu = 0;
  let uv = 0;
  let vv = 0;
  let u1 = 0;
  let v1 = 0;
  for (const { steps, flops, seconds } of points) {
    const u = steps / seconds;
    const v = flops / seconds;
    uu += u * u;
    uv += u * v;
    vv += v * v;
    u1 += u;
    v1 += v;
  }
  const det = uu * vv - uv * uv;
  if (points.length >= 2 && det > 1e-12 * uu * vv) {
    const a = (u1 * vv - v1 * uv) / det;
    const b = (uu * v1 - uv * u1) / det;
    if (a >= 0 && b > 0) return { secondsPerStep: a, flopsPerSecond: 1 / b };
  }
  // One term only: per-step cost, or FLOP rate, whichever fits better.
  const a = u1 / uu;
  const b = v1 / vv;
  const residual = (f: (p: (typeof points)[number]) => number) =>
    points.reduce((sum, p) => sum + (f(p) / p.seconds - 1) ** 2, 0);
  return residual((p) => a * p.steps) <= residual((p) => b * p.flops)
    ? { secondsPerStep: a, flopsPerSecond: null }
    : { secondsPerStep: 0, flopsPerSecond: 1 / b };
}

/** Seconds a planned run should take at a measured speed. */
export function estimateRunSeconds(run: Pick<PlannedRun, 'steps' | 'budgetFlops'>, speed: MeasuredThroughput): number {
  return speed.secondsPerStep * run.steps + (speed.flopsPerSecond ? run.budgetFlops / speed.flopsPerSecond : 0);
}
