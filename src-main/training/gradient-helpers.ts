import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../../src-shared/contract';
import type { BatchPart, GradientHelpers, PartGradients } from '../../src-shared/engine/trainer-types';
import type { GradientAnswer, GradientRequest, GradientWorkerData } from './gradient-worker';
import { wasmFolder } from './node-backends';

/**
 * Data parallelism on the CPU in Node: `count` worker threads, each with its own tfjs on single-threaded
 * WASM and its own copy of the model, compute the gradients of parts of each batch while the trainer's
 * thread computes the first part (Trainer.trainStepShared). tfjs-backend-wasm multi-threads only its
 * matrix products (XNNPACK's pool); its element-wise and reduction kernels run on one thread, so two
 * XNNPACK threads gave gpt-small 1.26–1.47x. Here every kernel of a part runs on its own core.
 */

export interface RunningHelpers extends GradientHelpers {
  close(): Promise<void>;
}

/** The bundled helper script beside the running bundle (dist/cli), or ISOFLOP_GRADIENT_WORKER (the tests'). */
export function gradientWorkerScript(): string | null {
  const named = process.env.ISOFLOP_GRADIENT_WORKER;
  if (named) return named;
  const here = typeof __dirname === 'string' ? __dirname : null;
  if (!here) return null;
  const beside = join(here, 'gradient-worker.js');
  return existsSync(beside) ? beside : null;
}

interface Helper {
  worker: Worker;
  /** the answer awaited, if any */
  waiting: { resolve(answer: PartGradients): void; reject(error: Error): void } | null;
  failure: Error | null;
}

/**
 * Starts `count` helpers for a model of `spec` (built with `seed`, for parts of a batch of `batchSize`
 * rows), or null when they cannot start here (no bundled helper script, as in a source checkout not yet
 * built; or a helper failed to start): the trainer then computes every batch itself.
 */
export async function startGradientHelpers(
  spec: ModelSpec,
  seed: number,
  batchSize: number,
  count: number,
): Promise<RunningHelpers | null> {
  const script = gradientWorkerScript();
  if (!script || count < 1) return null;
  const partRows = Math.ceil(batchSize / (count + 1));
  const workerData: GradientWorkerData = { spec, seed, batchSize: partRows };
  const helpers: Helper[] = [];
  const close = async () => {
    await Promise.all(helpers.map((helper) => helper.worker.terminate()));
  };
  const ready: Array<Promise<void>> = [];
  try {
    for (let k = 0; k < count; k++) ready.push(startHelper());
  } catch {
    // `new Worker` refused (no threads here): the helpers started go, their failures with them.
    for (const started of ready) started.catch(() => undefined);
    await close();
    return null;
  }
  function startHelper(): Promise<void> {
    const worker = new Worker(script as string, {
      workerData,
      env: { ...process.env, ISOFLOP_WASM_THREADS: '1', ISOFLOP_WASM_DIR: wasmFolder() },
    });
    const helper: Helper = { worker, waiting: null, failure: null };
    helpers.push(helper);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        helper.failure = error;
        helper.waiting?.reject(error);
        helper.waiting = null;
        reject(error);
      };
      worker.on('message', (message: GradientAnswer) => {
        if (message.kind === 'ready') resolve();
        else if (message.kind === 'error') fail(new Error(message.message));
        else {
          const waiting = helper.waiting;
          helper.waiting = null;
          waiting?.resolve({ loss: message.loss, grads: message.grads });
        }
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`a gradient helper thread exited (code ${code})`)));
    });
  }
  try {
    await Promise.all(ready);
  } catch {
    await close();
    return null;
  }
  // Not unref'd: while the trainer awaits a part, a helper is all that keeps Node's event loop alive. The
  // run session and the bench close them when they are done.
  return {
    count,
    close,
    compute(weights: Float32Array[], parts: BatchPart[], dropoutSeeds: number[]): Promise<PartGradients[]> {
      return Promise.all(
        parts.map(
          (part, k) =>
            new Promise<PartGradients>((resolve, reject) => {
              const helper = helpers[k];
              if (!helper || helper.failure) {
                reject(helper?.failure ?? new Error('no helper for this part'));
                return;
              }
              helper.waiting = { resolve, reject };
              const request: GradientRequest = { weights, part, dropoutSeed: dropoutSeeds[k] as number };
              helper.worker.postMessage(request);
            }),
        ),
      );
    },
  };
}
