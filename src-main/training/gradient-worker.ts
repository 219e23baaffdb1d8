import { parentPort, workerData } from 'node:worker_threads';
import type { ModelSpec } from '../../src-shared/contract';
import { createModel } from '../../src-shared/engine/run-data';
import { tf } from '../../src-shared/engine/tf';
import type { BatchPart } from '../../src-shared/engine/trainer-types';
import { setWasmThreads, useNodeBackend } from './node-backends';

/**
 * A data-parallel helper thread (gradient-helpers.ts): its own tfjs on single-threaded WASM and its own
 * copy of the model. Each request brings the step's weights and a part of the batch; it answers the
 * part's mean loss and its gradients, in parameter order.
 */

export interface GradientWorkerData {
  spec: ModelSpec;
  seed: number;
  batchSize: number;
}

export interface GradientRequest {
  weights: Float32Array[];
  part: BatchPart;
  dropoutSeed: number;
}

export type GradientAnswer =
  | { kind: 'ready' }
  | { kind: 'gradients'; loss: number; grads: Float32Array[] }
  | { kind: 'error'; message: string };

const port = parentPort;
if (port) {
  const { spec, seed, batchSize } = workerData as GradientWorkerData;
  const answer = (message: GradientAnswer, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  try {
    setWasmThreads(1);
    if ((await useNodeBackend('wasm')) !== 'wasm') throw new Error('WASM did not start in a helper thread');
    const model = createModel(spec, seed, batchSize);
    const variables = model.parameters.map((p) => p.variable);
    port.on('message', (request: GradientRequest) => {
      try {
        const { weights, part, dropoutSeed } = request;
        tf.tidy(() => {
          for (const [i, v] of variables.entries()) v.assign(tf.tensor(weights[i] as Float32Array, v.shape));
        });
        const x = tf.tensor(part.x.values, part.x.shape, part.x.dtype);
        const y = tf.tensor(part.y.values, part.y.shape, part.y.dtype);
        const { value, grads } = tf.variableGrads(() => model.loss({ x, y }, true, dropoutSeed), variables);
        const arrays = variables.map((v) => Float32Array.from((grads[v.name] as tf.Tensor).dataSync()));
        const loss = value.dataSync()[0] as number;
        tf.dispose([x, y, value, ...Object.values(grads)]);
        answer(
          { kind: 'gradients', loss, grads: arrays },
          arrays.map((a) => a.buffer as ArrayBuffer),
        );
      } catch (error) {
        answer({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    });
    answer({ kind: 'ready' });
  } catch (error) {
    answer({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}
