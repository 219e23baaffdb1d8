import type { Batch, Model } from './models/model';
import { tf } from './tf';

/** Validation measures over a run's evaluation batches; each batch's tensors are freed once read. */

/** Mean accuracy over the batches, for a model that classifies; null for one that does not. */
export async function meanAccuracy(model: Model, batches: () => Iterable<Batch>): Promise<number | null> {
  const accuracy = model.accuracy?.bind(model);
  if (!accuracy) return null;
  let total = 0;
  let count = 0;
  for (const batch of batches()) {
    const correct = tf.tidy(() => accuracy(batch));
    total += (await correct.data())[0] as number;
    count++;
    tf.dispose([correct, batch.x, batch.y]);
  }
  return total / Math.max(1, count);
}

export async function meanLoss(model: Model, batches: () => Iterable<Batch>): Promise<number> {
  let total = 0;
  let count = 0;
  for (const batch of batches()) {
    const loss = tf.tidy(() => model.loss(batch, false, 0));
    total += (await loss.data())[0] as number;
    count++;
    tf.dispose([loss, batch.x, batch.y]);
  }
  return total / Math.max(1, count);
}
