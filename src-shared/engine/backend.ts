import { type BackendName, backendOrder } from '../contract/backend';
import { IsoflopError } from '../contract/errors';
import { installFusedKernels } from './fused-kernels';
import { installKernelSwaps } from './kernels';
import { installFreeingTape } from './tape';
import { tf } from './tf';

/**
 * Picks the training backend: the user's preference if it starts, else the first that starts in
 * WebGPU -> WebGL -> WASM -> CPU order. The host registers the backends it has before calling this.
 */
export async function selectBackend(
  preference?: BackendName,
  order: readonly BackendName[] = backendOrder,
): Promise<BackendName> {
  const candidates = preference ? [preference, ...order.filter((name) => name !== preference)] : [...order];
  const registered = new Set(Object.keys(tf.engine().registryFactory));
  const failures: string[] = [];
  for (const name of candidates) {
    if (!registered.has(name)) continue;
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        installKernelSwaps(name);
        await installFusedKernels(name);
        installFreeingTape();
        return name;
      }
      failures.push(`${name}: did not start`);
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new IsoflopError(
    'BACKEND_UNAVAILABLE',
    `No training backend could start (${failures.join('; ') || 'none registered'}). Try another with --backend.`,
  );
}

/**
 * How many threads the WASM backend computes with (XNNPACK's pool: 1 in the app's workers, and in Node's
 * data-parallel mode); null on the other backends. Read from the backend's Emscripten module, which counts XNNPACK's pool.
 */
export function wasmThreads(): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  return backend.wasm?.tfjs?.getThreadsCount?.() ?? null;
}

/** A WASM probe's detail once the backend runs: "SIMD, threads" becomes "SIMD, 2 threads". */
export function withWasmThreads(detail: string, threads: number | null): string {
  if (threads === null) return detail;
  return detail.replace(/\bthreads$/, `${threads} thread${threads === 1 ? '' : 's'}`);
}
