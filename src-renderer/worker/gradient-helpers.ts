import type { BackendName } from '../../src-shared/contract/backend';
import type { ModelSpec } from '../../src-shared/contract/runs';
import {
  type GradientAnswer,
  helpersFor,
  type RunningHelpers,
  startHelperPool,
} from '../../src-shared/engine/gradient-pool';
import { runTensorBytes } from '../../src-shared/engine/memory';
import { accountFor } from '../../src-shared/engine/planner';

/**
 * How many helpers fit in half the device memory the browser reports (navigator.deviceMemory, in GB; Chromium
 * says at most 8): each holds a copy of the model, its gradients and its part's activations, counted (with room
 * to spare: a helper keeps no optimizer moments) as a run's tensors for a part of the batch (runTensorBytes).
 * Unbounded where the browser does not say.
 */
function helpersMemoryAllows(spec: ModelSpec, batchSize: number): number {
  const gigabytes = (navigator as { deviceMemory?: number }).deviceMemory;
  if (gigabytes === undefined) return Number.POSITIVE_INFINITY;
  const perHelper = runTensorBytes(spec, Math.ceil(batchSize / 2), accountFor(spec).params);
  return Math.floor((gigabytes * 1e9) / 2 / perHelper);
}

/**
 * Data parallelism in the app (src-shared/engine/gradient-pool.ts): the training worker starts helper
 * workers of its own (gradient.worker.ts), one per thread of its share of the cores beyond its own, for a
 * run on WASM whose steps are large enough. They need no cross-origin isolation: parts and gradients
 * travel as messages.
 */
export function startWorkerHelpers(
  backend: BackendName,
  spec: ModelSpec,
  seed: number,
  batchSize: number,
  threads: number,
): Promise<RunningHelpers | null> {
  const count = helpersFor(backend, spec, batchSize, Math.min(threads, 1 + helpersMemoryAllows(spec, batchSize)));
  if (count < 1 || typeof Worker === 'undefined') return Promise.resolve(null);
  return startHelperPool(spec, seed, batchSize, count, (setup) => {
    const worker = new Worker(new URL('./gradient.worker.ts', import.meta.url), {
      type: 'module',
      name: 'isoflop-gradient-helper',
    });
    worker.postMessage(setup);
    return {
      post: (message, transfer = []) => worker.postMessage(message, transfer),
      listen(onAnswer, onFailure) {
        worker.onmessage = (event: MessageEvent<GradientAnswer>) => onAnswer(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          onFailure(new Error(`a gradient helper worker failed: ${event.message || 'it did not start'}`));
        };
        worker.onmessageerror = () =>
          onFailure(new Error('a gradient helper worker sent a message that could not be read'));
      },
      terminate: () => {
        worker.terminate();
        return undefined;
      },
    };
  });
}
