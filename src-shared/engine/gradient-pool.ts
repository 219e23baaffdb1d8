import type { BackendName } from '../contract/backend';
import type { ModelSpec } from '../contract/runs';
import { familyOf } from './models/families';
import { accountFor } from './planner';
import { createModel } from './run-data';
import { tf } from './tf';
import type { BatchPart, GradientHelpers, PartGradients } from './trainer-types';

/**
 * Data parallelism on the CPU: helper threads, each with its own tfjs on single-threaded WASM and its own
 * copy of the model, compute the gradients of parts of each batch while the trainer's thread computes the
 * first part (Trainer.trainStepShared). tfjs-backend-wasm multi-threads only its matrix products (XNNPACK's
 * pool); its element-wise and reduction kernels run on one thread, so two XNNPACK threads gave gpt-small
 * 1.26–1.47x in Node and 1.28–1.31x in Chromium. Here every kernel of a part runs on its own core.
 *
 * This module is both sides of it, for any host: the pool the trainer's thread keeps (startHelperPool),
 * and the loop each helper runs (serveGradients). The hosts give the threads: Node's worker_threads
 * (src-main/training/gradient-helpers.ts) and the browser's Workers, started from the app's training
 * worker (src-renderer/worker/gradient.worker.ts).
 */

/** What a helper builds its copy of the model from. */
export interface GradientSetup {
  spec: ModelSpec;
  seed: number;
  /** rows in the largest part it will be given */
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

/** Helpers that run until closed. */
export interface RunningHelpers extends GradientHelpers {
  close(): Promise<void>;
}

/** How long helpers may take to start (their WASM compiled, their model built) before a run goes on alone. */
export const helperStartMs = 60_000;

/** Below this many FLOPs a step, a helper's per-step messages cost more than its part saves. */
export const dataParallelMinFlops = 1e9;

/**
 * How many helpers a run of `spec` gets when `threads` threads are its to use: one fewer than the threads
 * (the trainer's thread computes a part too) on WASM, for a step of at least dataParallelMinFlops and a
 * batch with a row for each thread; otherwise none.
 */
export function helpersFor(backend: BackendName, spec: ModelSpec, batchSize: number, threads: number): number {
  if (backend !== 'wasm' || threads < 2 || batchSize < 2) return 0;
  const flopsPerStep = accountFor(spec).flopsPerToken * familyOf(spec).positionsPerExample(spec) * batchSize;
  // (Not `<`: a spec the accounting cannot count gives NaN, and gets no helpers.)
  return flopsPerStep >= dataParallelMinFlops ? Math.min(threads, batchSize) - 1 : 0;
}

/** One helper thread as the pool sees it, whatever the host's threads are. */
export interface HelperThread {
  post(message: GradientRequest, transfer?: ArrayBuffer[]): void;
  /** `onAnswer` for every answer; `onFailure` when the thread errs or ends */
  listen(onAnswer: (answer: GradientAnswer) => void, onFailure: (error: Error) => void): void;
  terminate(): Promise<unknown> | undefined;
}

interface Helper {
  thread: HelperThread;
  /** the answer awaited, if any */
  waiting: { resolve(answer: PartGradients): void; reject(error: Error): void } | null;
  failure: Error | null;
}

/**
 * Starts `count` helpers with `start(setup)` and waits until each has its model, or returns null when one
 * cannot start (the host has no threads, or a helper failed to start): the trainer then computes every
 * batch itself. Parts are split as Trainer.trainStepShared splits them, the largest `ceil(batch/threads)`.
 */
export async function startHelperPool(
  spec: ModelSpec,
  seed: number,
  batchSize: number,
  count: number,
  start: (setup: GradientSetup) => HelperThread,
  startMs = helperStartMs,
): Promise<RunningHelpers | null> {
  if (count < 1) return null;
  const setup: GradientSetup = { spec, seed, batchSize: Math.ceil(batchSize / (count + 1)) };
  const helpers: Helper[] = [];
  const close = async () => {
    await Promise.all(helpers.map((helper) => helper.thread.terminate()));
  };
  const ready: Array<Promise<void>> = [];
  const startOne = (): Promise<void> => {
    const thread = start(setup);
    const helper: Helper = { thread, waiting: null, failure: null };
    helpers.push(helper);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        helper.failure = error;
        helper.waiting?.reject(error);
        helper.waiting = null;
        reject(error);
      };
      thread.listen((answer) => {
        if (answer.kind === 'ready') resolve();
        else if (answer.kind === 'error') fail(new Error(answer.message));
        else {
          const waiting = helper.waiting;
          helper.waiting = null;
          waiting?.resolve({ loss: answer.loss, grads: answer.grads });
        }
      }, fail);
    });
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (let k = 0; k < count; k++) ready.push(startOne());
    // A helper that never answers (its WASM never compiles; a browser worker that dies says nothing) must not
    // hold the run: past the deadline the run goes on without helpers.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('gradient helpers did not start in time')), startMs);
    });
    await Promise.race([Promise.all(ready), deadline]);
  } catch {
    // A thread refused to start, or failed before it was ready: the others go, their failures with them.
    for (const started of ready) started.catch(() => undefined);
    await close();
    return null;
  } finally {
    clearTimeout(timer);
  }
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
              // Moved, not copied: each part's arrays, and the weights to the last helper (the others get
              // copies first). In Chromium, copying gpt-small's 3.4 MB of weights took 15–20 ms of a step.
              const moved = [part.x.values.buffer, part.y.values.buffer];
              if (k === parts.length - 1) moved.push(...weights.map((w) => w.buffer));
              helper.thread.post({ weights, part, dropoutSeed: dropoutSeeds[k] as number }, [
                ...new Set(moved as ArrayBuffer[]),
              ]);
            }),
        ),
      );
    },
  };
}

/**
 * A helper's side: starts its backend with `startWasm` (single-threaded WASM, with the engine's kernels),
 * builds the model, answers `ready`, then answers each request with the part's mean loss and gradients in
 * parameter order (their buffers transferred). Failures are answered, never thrown.
 */
export async function serveGradients(
  setup: GradientSetup,
  startWasm: () => Promise<BackendName>,
  port: {
    answer(message: GradientAnswer, transfer?: ArrayBuffer[]): void;
    onRequest(handle: (request: GradientRequest) => void): void;
  },
): Promise<void> {
  const failed = (error: unknown) =>
    port.answer({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
  try {
    if ((await startWasm()) !== 'wasm') throw new Error('WASM did not start in a gradient helper thread');
    const model = createModel(setup.spec, setup.seed, setup.batchSize);
    const variables = model.parameters.map((p) => p.variable);
    port.onRequest(({ weights, part, dropoutSeed }) => {
      const made: tf.Tensor[] = [];
      try {
        tf.tidy(() => {
          for (const [i, v] of variables.entries()) v.assign(tf.tensor(weights[i] as Float32Array, v.shape));
        });
        const x = tf.tensor(part.x.values, part.x.shape, part.x.dtype);
        const y = tf.tensor(part.y.values, part.y.shape, part.y.dtype);
        made.push(x, y);
        const { value, grads } = tf.variableGrads(() => model.loss({ x, y }, true, dropoutSeed), variables);
        made.push(value, ...Object.values(grads));
        const arrays = variables.map((v) => Float32Array.from((grads[v.name] as tf.Tensor).dataSync()));
        const loss = value.dataSync()[0] as number;
        port.answer(
          { kind: 'gradients', loss, grads: arrays },
          arrays.map((a) => a.buffer as ArrayBuffer),
        );
      } catch (error) {
        failed(error);
      } finally {
        tf.dispose(made);
      }
    });
    port.answer({ kind: 'ready' });
  } catch (error) {
    failed(error);
  }
}
