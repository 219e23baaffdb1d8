import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../../src-shared/contract';
import { type RunningHelpers, startHelperPool } from '../../src-shared/engine/gradient-pool';
import { wasmFolder } from './node-backends';

/**
 * Data parallelism in Node (src-shared/engine/gradient-pool.ts): the helpers are worker threads running the
 * bundled gradient-worker.js, each on single-threaded WASM.
 */

/** The bundled helper script beside the running bundle (dist/cli), or ISOFLOP_GRADIENT_WORKER (the tests'). */
export function gradientWorkerScript(): string | null {
  const named = process.env.ISOFLOP_GRADIENT_WORKER;
  if (named) return named;
  const here = typeof __dirname === 'string' ? __dirname : null;
  if (!here) return null;
  const beside = join(here, 'gradient-worker.js');
  return existsSync(beside) ? beside : null;
}

/**
 * Starts `count` helper threads for a model of `spec` (built with `seed`, for parts of a batch of
 * `batchSize` rows), or null when they cannot start here (no bundled helper script, as in a source checkout
 * not yet built; or a helper failed to start): the trainer then computes every batch itself.
 */
export function startGradientHelpers(
  spec: ModelSpec,
  seed: number,
  batchSize: number,
  count: number,
): Promise<RunningHelpers | null> {
  const script = gradientWorkerScript();
  if (!script) return Promise.resolve(null);
  // Not unref'd: while the trainer awaits a part, a helper is all that keeps Node's event loop alive. The
  // run session and the bench close them when they are done.
  return startHelperPool(spec, seed, batchSize, count, (setup) => {
    const worker = new Worker(script, {
      workerData: setup,
      env: { ...process.env, ISOFLOP_WASM_THREADS: '1', ISOFLOP_WASM_DIR: wasmFolder() },
    });
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      listen(onAnswer, onFailure) {
        worker.on('message', onAnswer);
        worker.on('error', onFailure);
        worker.on('exit', (code) => onFailure(new Error(`a gradient helper thread exited (code ${code})`)));
      },
      terminate: () => worker.terminate(),
    };
  });
}
