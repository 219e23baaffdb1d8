import type { Batch } from './models/model';
import { type Tensor, tf } from './tf';
import type { BatchPart, GradientHelpers, PartGradients } from './trainer-types';

/**
 * A batch split by rows for data parallelism (Trainer.trainStepShared): each part's mean loss, weighted by
 * its share of the rows, sums to the full batch's mean loss, and so its gradients to the full batch's.
 */

export interface Parts {
  /** rows in each part, as even as can be (the first parts a row larger) */
  sizes: number[];
  /** each part's first row */
  starts: number[];
  /** each part's share of the batch's rows */
  shares: number[];
}

export function splitRows(rows: number, count: number): Parts {
  const parts = Math.max(1, Math.min(count, rows));
  const sizes = Array.from({ length: parts }, (_, k) => Math.floor(rows / parts) + (k < rows % parts ? 1 : 0));
  const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
  return { sizes, starts, shares: sizes.map((size) => size / rows) };
}

/** Part `k` of a batch, as tensors. */
export function partOf(batch: Batch, parts: Parts, k: number): Batch {
  const rows = (t: Tensor) =>
    tf.slice(
      t,
      [parts.starts[k] as number, ...t.shape.slice(1).map(() => 0)],
      [parts.sizes[k] as number, ...t.shape.slice(1)],
    );
  return { x: rows(batch.x), y: rows(batch.y) };
}

/** Part `k` of a batch as arrays, to send to another thread. */
export async function partArrays(batch: Batch, parts: Parts, k: number): Promise<BatchPart> {
  const { x, y } = partOf(batch, parts, k);
  const arrays = async (t: Tensor) => {
    const values = (await t.data()) as Float32Array | Int32Array;
    const { shape } = t;
    const dtype = t.dtype as 'float32' | 'int32';
    t.dispose();
    return { values, shape, dtype };
  };
  return { x: await arrays(x), y: await arrays(y) };
}

/**
 * Adds the helpers' parts (parts 1.. of `parts`) to this thread's, already weighted by its share: each
 * parameter's gradient, and the loss. Call inside tf.tidy.
 */
export function addParts(
  local: { value: Tensor; grads: Tensor[] },
  results: PartGradients[],
  parts: Parts,
  shapes: number[][],
): { value: Tensor; grads: Tensor[] } {
  const share = (i: number) => parts.shares[i + 1] as number;
  return {
    grads: local.grads.map((grad, index) =>
      results.reduce(
        (sum, result, i) =>
          tf.add(sum, tf.mul(tf.tensor(result.grads[index] as Float32Array, shapes[index]), share(i))),
        grad,
      ),
    ),
    value: results.reduce((sum, result, i) => tf.add(sum, result.loss * share(i)), local.value),
  };
}

/**
 * One step's gradients with the batch split among this thread and `helpers`: the helpers get the weights
 * and their parts, this thread computes the first part (`loss`, weighted by its share, with whatever the
 * trainer adds once, such as penalties) meanwhile, and `apply` gets the summed gradients inside a tidy.
 * Resolves the step's loss, or null when a helper failed (nothing applied: the caller computes the step).
 */
export async function sharedStep(
  batch: Batch,
  helpers: GradientHelpers,
  variables: tf.Variable[],
  step: { loss(part: Batch, share: number): tf.Scalar; seed(part: number): number; apply(grads: Tensor[]): void },
): Promise<Tensor | null> {
  const parts = splitRows(batch.x.shape[0] as number, helpers.count + 1);
  // Copies of the weights, handed over to the helpers. On WASM (where helpers run) read at once: fifty
  // awaited reads took 8–10 ms of a step in Chromium, and a synchronous read there breaks nothing.
  const weights =
    tf.getBackend() === 'wasm'
      ? variables.map((v) => v.dataSync() as Float32Array)
      : await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  const sent = await Promise.all(parts.sizes.slice(1).map((_, i) => partArrays(batch, parts, i + 1)));
  const pending = helpers.compute(
    weights,
    sent,
    sent.map((_, i) => step.seed(i + 1)),
  );
  // Settled here too: if this thread's part throws, the helpers' answer (or failure) is nobody's to await.
  pending.catch(() => undefined);
  const first = partOf(batch, parts, 0);
  let local: ReturnType<typeof tf.variableGrads>;
  try {
    local = tf.tidy(() => tf.variableGrads(() => step.loss(first, parts.shares[0] as number), variables));
  } finally {
    tf.dispose([first.x, first.y]);
  }
  try {
    const results = await pending.catch(() => null);
    if (!results) return null;
    return tf.tidy(() => {
      const summed = addParts(
        { value: local.value, grads: variables.map((v) => local.grads[v.name] as Tensor) },
        results,
        parts,
        variables.map((v) => v.shape),
      );
      step.apply(summed.grads);
      return summed.value;
    });
  } finally {
    tf.dispose([local.value, ...Object.values(local.grads)]);
  }
}
