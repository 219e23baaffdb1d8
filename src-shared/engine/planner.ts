import type { BackendName, DatasetManifest, ModelSpec, PlannedRun, RunRecord } from '../contract';
import { IsoflopError } from '../contract/isoflop-error';
import { formatCount, formatFlops } from '../format';
import { defaultLadder, gptCandidates, mlpCandidates, spreadSizes } from './ladder';
import { familyOf } from './models/families';

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

/** Every model shape the planner may propose for a dataset, in order of size, up to `maxParams`. */
function candidatesFor(
  dataset: DatasetManifest,
  contextLength: number,
  maxParams: number,
): Array<{ params: number; config: ModelSpec }> {
  if (dataset.kind === 'table') {
    const outputs = dataset.task === 'classification' ? (dataset.target.classes?.length ?? 2) : 1;
    const base = {
      inputs: dataset.features,
      depth: 2,
      activation: 'tanh' as const,
      dropout: 0,
      task: dataset.task,
      outputs,
    };
    return mlpCandidates(base, maxParams).map(({ params, config }) => ({
      params,
      config: { family: 'mlp', ...config },
    }));
  }
  const base = {
    vocabSize: dataset.tokenizer.vocabSize,
    contextLength,
    positions: 'learned' as const,
    tiedEmbeddings: true,
    dropout: 0,
    embedding: dataset.tokenizer.vocabSize <= 512 ? ('onehot' as const) : ('gather' as const),
  };
  // Every shape: the smallest of a large vocabulary may already exceed the budget's range.
  return gptCandidates(base, defaultLadder).map(({ params, config }) => ({
    params,
    config: { family: 'gpt', ...config },
  }));
}

export function accountFor(model: ModelSpec): { params: number; flopsPerToken: number } {
  const family = familyOf(model);
  return { params: family.paramCount(model).total, flopsPerToken: family.flops(model).perToken };
}

/** Past this many tokens per parameter a model is far smaller than any budget's optimum we have seen. */
const tooManyTokensPerParam = 10_000;

/**
 * The most steps one planned run may take: about a day at a thousand steps a second, far beyond what a
 * sweep on one machine finishes. A budget that needs more is refused before anything is written.
 */
export const maxPlannedSteps = 100_000_000;

/**
 * The most training state one planned run may hold: weights, gradients and AdamW's two moments, 16 bytes a
 * parameter, before activations. 64 GiB is beyond any single GPU's memory WebGPU can reach, and far beyond
 * WASM's 4 GiB.
 */
export const maxTrainingStateBytes = 64 * 1024 ** 3;

/** Refuses a model whose training state alone would pass `maxTrainingStateBytes`, naming what asked for it. */
export function checkModelFits(model: ModelSpec, what: string): void {
  const { params } = accountFor(model);
  if (params * 16 <= maxTrainingStateBytes) return;
  throw new IsoflopError(
    'BAD_REQUEST',
    `${what}: a ${formatCount(params)}-parameter model's weights, gradients and optimizer state take ` +
      `${((params * 16) / 1024 ** 3).toFixed(1)} GiB, more than the ${maxTrainingStateBytes / 1024 ** 3} GiB a run may hold. Choose a smaller model.`,
  );
}

const longestSteps = (plan: PlannedRun[]) => plan.reduce((most, run) => Math.max(most, run.steps), 0);

/** The largest budget (to two significant figures, found by bisection in log space) whose plan fits the step cap. */
function largestPlannable(request: PlanRequest, above: number): number {
  let low = 1;
  let high = above;
  for (let i = 0; i < 40 && high / low > 1.01; i++) {
    const middle = Math.sqrt(low * high);
    if (longestSteps(planRuns({ ...request, budgets: [middle] })) <= maxPlannedSteps) low = middle;
    else high = middle;
  }
  return Number(low.toPrecision(2));
}

/** Refuses a plan no machine could honestly train, naming the budget and the largest one that fits. */
function checkPlannable(plan: PlannedRun[], request: PlanRequest, tokensPerStep: number): void {
  for (const budget of [...new Set(plan.map((run) => run.budgetFlops))]) {
    const runs = plan.filter((run) => run.budgetFlops === budget);
    const largestModel = runs.reduce((a, b) => (b.params > a.params ? b : a));
    if (largestModel.params * 16 > maxTrainingStateBytes) {
      throw new IsoflopError(
        'BAD_REQUEST',
        `field "budgets": ${budget.toExponential(1)} FLOPs would train a ${formatCount(largestModel.params)}-parameter model, whose ` +
          `weights, gradients and optimizer state alone take ${((largestModel.params * 16) / 1024 ** 3).toFixed(1)} GiB, more than the ` +
          `${maxTrainingStateBytes / 1024 ** 3} GiB a run may hold. Choose smaller budgets.`,
      );
    }
    const longest = runs.reduce((a, b) => (b.steps > a.steps ? b : a));
    if (longest.steps <= maxPlannedSteps) continue;
    throw new IsoflopError(
      'BAD_REQUEST',
      `field "budgets": ${budget.toExponential(1)} FLOPs would train a ${formatCount(longest.params)}-parameter model for ` +
        `${longest.steps.toExponential(1)} steps of ${formatCount(tokensPerStep)} tokens, more than the ` +
        `${formatCount(maxPlannedSteps)} steps a planned run may take. With this dataset and a batch of ` +
        `${request.batchSize}, budgets up to about ${largestPlannable(request, budget).toExponential(1)} FLOPs can be planned; a larger batch raises that.`,
    );
  }
}

export function planSweep(request: PlanRequest): PlannedRun[] {
  const plan = planRuns(request);
  const tokensPerStep =
    request.dataset.kind === 'table' ? request.batchSize : request.batchSize * (request.contextLength ?? 64);
  checkPlannable(plan, request, tokensPerStep);
  return plan;
}

function planRuns(request: PlanRequest): PlannedRun[] {
  const { dataset, budgets, sizesPerBudget, batchSize } = request;
  const contextLength = request.contextLength ?? 64;
  const tokensPerStep = dataset.kind === 'table' ? batchSize : batchSize * contextLength;
  const unique = dataset.kind === 'table' ? dataset.splits.train.rows : dataset.splits.train.tokens;
  const plan: PlannedRun[] = [];
  const sorted = [...budgets].sort((a, b) => a - b);
  // Centre on Chinchilla's ~20 tokens per parameter (C ≈ 120 N²) and reach well below it: small models on
  // cheap data often want far more tokens per parameter.
  const centreOf = (budget: number) => Math.sqrt(budget / 120);
  const candidates = candidatesFor(dataset, contextLength, centreOf(sorted.at(-1) ?? 1) * 30);
  for (const budget of sorted) {
    const centre = centreOf(budget);
    // Sizes spread evenly in log N over the range, whatever the vocabulary: a large embedding puts a floor
    // under N, so the ladder then starts at the smallest model and keeps the sizes asked for, none a near-duplicate.
    for (const { config: model } of spreadSizes(candidates, centre / 30, centre * 3, sizesPerBudget)) {
      const { params, flopsPerToken } = accountFor(model);
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
      const items = dataset.kind === 'table' ? 'rows' : 'tokens';
      if (params > unique) {
        warnings.push(
          `more parameters (${formatCount(params)}) than unique training ${items} (${formatCount(unique)}): too large for this dataset, it can memorise it; expect over-fitting`,
        );
      }
      if (tokens / params > tooManyTokensPerParam) {
        warnings.push(
          `very small for this budget (${formatCount(tokens / params)} ${items} per parameter): a larger model would reach a lower loss for the same compute`,
        );
      }
      plan.push({
        budgetFlops: budget,
        label: `${formatFlops(budget)} FLOPs · ${formatCount(params)} params`,
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
  /** wall time ≈ secondsPerRun + secondsPerStep · steps + FLOPs / flopsPerSecond, fitted to completed runs */
  secondsPerRun: number;
  secondsPerStep: number;
  /** null when FLOPs explain none of the runs' wall time */
  flopsPerSecond: number | null;
  /** how many completed runs it was fitted to */
  runs: number;
}

/**
 * The speed this machine has shown, per backend, for one model family. A run's wall time is modelled as a
 * fixed cost (start-up, data), a cost per step (dispatch and evaluations: what dominates small models) and
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

/**
 * Minimises Σ ((c + a·steps + b·flops) / seconds − 1)² over c, a, b ≥ 0 (each run counts by its relative
 * error): every subset of the three terms is solved unconstrained, and the best one with no negative
 * coefficient wins. Three unknowns at most, so this is exact and cheap.
 */
function fitSpeed(points: Array<{ steps: number; flops: number; seconds: number }>): {
  secondsPerRun: number;
  secondsPerStep: number;
  flopsPerSecond: number | null;
} {
  const features = points.map(({ steps, flops, seconds }) => [1 / seconds, steps / seconds, flops / seconds]);
  let best: { coefficients: number[]; residual: number } | null = null;
  for (let mask = 1; mask < 8; mask++) {
    const used = [0, 1, 2].filter((k) => mask & (1 << k));
    if (used.length > points.length) continue;
    // Normal equations, scaled per column for conditioning.
    const scale = used.map((k) => Math.hypot(...features.map((row) => row[k] as number)) || 1);
    const matrix = used.map((_, i) => [
      ...used.map((_, j) =>
        features.reduce(
          (sum, row) =>
            sum +
            ((row[used[i] as number] as number) / (scale[i] as number)) *
              ((row[used[j] as number] as number) / (scale[j] as number)),
          0,
        ),
      ),
      features.reduce((sum, row) => sum + (row[used[i] as number] as number) / (scale[i] as number), 0),
    ]);
    const solved = solve(matrix);
    if (!solved) continue;
    const coefficients = [0, 0, 0];
    used.forEach((k, i) => {
      coefficients[k] = (solved[i] as number) / (scale[i] as number);
    });
    if (coefficients.some((c) => c < 0)) continue;
    const residual = features.reduce(
      (sum, row) => sum + (row.reduce((dot, value, k) => dot + value * (coefficients[k] as number), 0) - 1) ** 2,
      0,
    );
    if (!best || residual < best.residual - 1e-12) best = { coefficients, residual };
  }
  const [c = 0, a = 0, b = 0] = best?.coefficients ?? [0, 0, 0];
  return { secondsPerRun: c, secondsPerStep: a, flopsPerSecond: b > 0 ? 1 / b : null };
}

/** Gaussian elimination with partial pivoting on an augmented n×(n+1) matrix; null when singular. */
function solve(matrix: number[][]): number[] | null {
  const n = matrix.length;
  const m = matrix.map((row) => [...row]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) {
      if (Math.abs((m[row] as number[])[col] as number) > Math.abs((m[pivot] as number[])[col] as number)) pivot = row;
    }
    if (Math.abs((m[pivot] as number[])[col] as number) < 1e-12) return null;
    [m[col], m[pivot]] = [m[pivot] as number[], m[col] as number[]];
    const top = m[col] as number[];
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const current = m[row] as number[];
      const factor = (current[col] as number) / (top[col] as number);
      for (let k = col; k <= n; k++) current[k] = (current[k] as number) - factor * (top[k] as number);
    }
  }
  return m.map((row, i) => (row[n] as number) / (row[i] as number));
}

/** Seconds a planned run should take at a measured speed. */
export function estimateRunSeconds(
  run: Pick<PlannedRun, 'steps' | 'budgetFlops'>,
  speed: Pick<MeasuredThroughput, 'secondsPerRun' | 'secondsPerStep' | 'flopsPerSecond'>,
): number {
  return (
    speed.secondsPerRun +
    speed.secondsPerStep * run.steps +
    (speed.flopsPerSecond ? run.budgetFlops / speed.flopsPerSecond : 0)
  );
}
