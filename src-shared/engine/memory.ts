import type { ModelSpec, RunRecord } from '../contract';
import { gptParamCount, gptShape, transformerStepBytes } from './accounting';

/**
 * How much a run's training step holds, and when a GPT recomputes its activations block by block in the
 * backward pass (gradient checkpointing) to hold less. No tensors here: the UI thread decides the log
 * line as the worker decides the model.
 */

/**
 * The most a training step's activations may take before a GPT recomputes them. WASM's memory stops at
 * 4 GiB and also holds the weights, the optimizer's moments and tfjs's copies; GPUs have 4 GB and more.
 * gpt-small stays under it up to batch 256 (about 1.9 GB; 0.23 GB at batch 32).
 */
export const activationBudgetBytes = 2 * 1024 ** 3;

/** Whether a run's GPT recomputes its activations, and the line its log gets when it does. */
export function activationPlan(spec: ModelSpec, batchSize: number): { recompute: boolean; note: string | null } {
  if (spec.family !== 'gpt') return { recompute: false, note: null };
  const shape = gptShape(spec);
  const params = gptParamCount(spec).total;
  const kept = transformerStepBytes(shape, params, batchSize, false);
  if (kept <= activationBudgetBytes) return { recompute: false, note: null };
  const recomputed = transformerStepBytes(shape, params, batchSize, true);
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;
  return {
    recompute: true,
    note:
      "Recomputes each block's activations in the backward pass (gradient checkpointing): keeping them would take " +
      `about ${gb(kept)} a step, over the ${gb(activationBudgetBytes)} allowed; recomputed, about ${gb(recomputed)}, ` +
      'for about a third more compute.',
  };
}

/** The log line of a run whose GPT recomputes its activations, once per run (not again on a resume). */
export function activationLogLine(run: RunRecord): string | null {
  const { note } = activationPlan(run.config.model, run.config.batchSize);
  return note !== null && !run.log.some((entry) => entry.message === note) ? note : null;
}

/**
 * Bytes of tensors a run's training holds at its peak: weights, gradients and AdamW's moments (16 bytes a
 * parameter) and, for a GPT, its step's activations as `activationPlan` trains them. An MLP's activations
 * are a few rows of its width: counted in the parameters' term.
 */
export function runTensorBytes(spec: ModelSpec, batchSize: number, params: number): number {
  if (spec.family !== 'gpt') return 16 * params;
  const { recompute } = activationPlan(spec, batchSize);
  return 16 * params + transformerStepBytes(gptShape(spec), params, batchSize, recompute);
}
