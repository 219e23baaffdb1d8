import type { RowSampler, TokenSampler } from '../../src-shared/engine/data';
import type { Model } from '../../src-shared/engine/models/model';
import { defaultTrainerOptions, type Metrics, Trainer } from '../../src-shared/engine/trainer';

/**
 * For tests that compare backends: the training loss after each of 6 steps (batch 8, 2 warmup steps) of
 * `model` on whatever backend runs now. The model is disposed afterwards.
 */
export async function sixStepLosses(model: Model, sampler: RowSampler | TokenSampler): Promise<number[]> {
  const seen: number[] = [];
  const trainer = new Trainer(
    model,
    sampler,
    { ...defaultTrainerOptions, batchSize: 8, plannedSteps: 6, warmupSteps: 2, evalSteps: [1, 2, 3, 4, 5] },
    { evaluate: async () => 0, onMetrics: (m: Metrics) => void seen.push(m.trainLoss) },
  );
  try {
    await trainer.run();
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return seen;
}
