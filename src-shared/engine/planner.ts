import type { DatasetManifest, ModelSpec, PlannedRun } from '../contract';
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
