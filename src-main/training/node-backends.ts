import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../../src-shared/contract/backend';
import { IsoflopError } from '../../src-shared/contract/errors';
import type { ModelSpec } from '../../src-shared/contract/runs';
import { selectBackend, wasmThreads, withWasmThreads } from '../../src-shared/engine/backend';
import { helpersFor, type RunningHelpers } from '../../src-shared/engine/gradient-pool';
import type { BackendChoice, BackendPolicy, DeviceLike } from '../../src-shared/engine/session/run-session';
import { tf } from '../../src-shared/engine/tf';
import { nodeWebGpu, probeDawnApart, resetWebGpuBackend } from './dawn';
import { startGradientHelpers } from './gradient-helpers';
import { defaultWasmThreads, startWithWasmThreads } from './wasm-threads';

/**
 * Training backends in Node: WebGPU through Dawn (see dawn.ts), WASM (SIMD) and the plain-JavaScript CPU
 * backend. `auto` trains on WebGPU only where Dawn finds a hardware adapter: a software one (SwiftShader)
 * computes on the CPU, several times slower than WASM, so it is used only when asked for by name.
 */

export const nodeBackendPreferences = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
export type NodeBackendPreference = (typeof nodeBackendPreferences)[number];

export function wasmFolder(): string {
  // A helper thread is told its parent's (gradient-helpers.ts): its script may be bundled elsewhere.
  if (process.env.ISOFLOP_WASM_DIR) return process.env.ISOFLOP_WASM_DIR;
  // The bundled CLI ships the .wasm files beside it (dist/wasm); a source checkout reads node_modules.
  const beside = join(dirname(fileURLToPath(import.meta.url)), '..', 'wasm');
  if (existsSync(join(beside, 'tfjs-backend-wasm-simd.wasm'))) return beside;
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

let pathsSet = false;
let wasmThreadsWanted = defaultWasmThreads();

/**
 * The threads WASM computes with in this process (XNNPACK's pool): the machine's cores unless set. Takes
 * effect only before WASM first starts in the process: `--jobs N` gives each of its N processes its share.
 */
export function setWasmThreads(threads: number): void {
  wasmThreadsWanted = Math.max(1, Math.floor(threads));
}

function setUp(): void {
  if (pathsSet) return;
  // Production mode: no per-op debug checks, and no advert for tfjs-node (which cannot install here).
  tf.env().set('PROD', true);
  setWasmPaths(`${wasmFolder()}/`);
  pathsSet = true;
}

/**
 * The backends to try for `preference`, in order. `webgpu` asked for by name and missing is an error that
 * says why (no driver, no adapter), rather than a quiet run on the CPU.
 */
export async function nodeBackendOrder(preference: NodeBackendPreference = 'auto'): Promise<BackendName[]> {
  if (preference === 'wasm') return ['wasm', 'cpu'];
  if (preference === 'cpu') return ['cpu', 'wasm'];
  // Dawn is asked in a child process first (see probeDawnApart), and loaded here only if it has an adapter.
  const found = await probeDawnApart();
  if (preference === 'webgpu') {
    const { probe } = found.available ? await nodeWebGpu() : { probe: found };
    if (!probe.available)
      throw new IsoflopError(
        'BACKEND_UNAVAILABLE',
        `--backend webgpu: ${probe.detail} Train on the CPU with --backend wasm, or leave --backend out.`,
      );
    return ['webgpu', 'wasm', 'cpu'];
  }
  if (!found.available || found.adapter?.isSoftware !== false) return ['wasm', 'cpu'];
  return (await nodeWebGpu()).probe.available ? ['webgpu', 'wasm', 'cpu'] : ['wasm', 'cpu'];
}

/** Starts the first backend of `preference`'s order that starts. */
export async function useNodeBackend(preference: NodeBackendPreference = 'auto'): Promise<BackendName> {
  setUp();
  const order = await nodeBackendOrder(preference);
  return startWithWasmThreads(mainWasmThreads(), () => selectBackend(order[0], order));
}

/**
 * How a process spends its threads on WASM (ISOFLOP_PARALLEL): `data` (the default) gives a large model's
 * run helper threads that each compute a part of every batch on their own copy of the model, WASM
 * computing on one thread in each; `threads` gives XNNPACK's pool all the threads instead, which speeds
 * up only the matrix products (tfjs-wasm's other kernels run on one thread).
 */
export function parallelMode(env: NodeJS.ProcessEnv = process.env): 'data' | 'threads' {
  const asked = env.ISOFLOP_PARALLEL?.trim();
  if (asked === undefined || asked === '' || asked === 'data') return 'data';
  if (asked === 'threads') return 'threads';
  throw new IsoflopError('BAD_REQUEST', `ISOFLOP_PARALLEL=${asked}: give data or threads.`);
}

/** The threads this process's own WASM computes with: all of them for `threads`, one for `data`. */
function mainWasmThreads(): number {
  return parallelMode() === 'data' ? 1 : wasmThreadsWanted;
}

/**
 * Data parallelism for a run in this process (see gradient-pool.ts): in `data` mode, helpers for every
 * thread WASM may use beyond this one, where the run's steps are large enough to pay for them.
 */
export async function dataParallelHelpers(
  backend: BackendName,
  spec: ModelSpec,
  seed: number,
  batchSize: number,
): Promise<RunningHelpers | null> {
  if (parallelMode() !== 'data') return null;
  const count = helpersFor(backend, spec, batchSize, wasmThreadsWanted);
  return count > 0 ? startGradientHelpers(spec, seed, batchSize, count) : null;
}

/** What a run records of its backend: the GPU adapter, or WASM's SIMD and threads. */
async function described(backend: BackendName): Promise<BackendChoice> {
  if (backend === 'webgpu') return { backend, adapter: (await nodeWebGpu()).probe.detail };
  if (backend === 'wasm') return { backend, adapter: withWasmThreads('SIMD, threads', wasmThreads()) };
  return { backend, adapter: null };
}

/** The device tfjs's WebGPU backend trains on; null on the other backends. */
function webGpuDevice(): DeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: DeviceLike }).device ?? null;
}

/**
 * The run session's backend policy in Node: `preference`'s first backend that starts; a WebGPU run whose
 * device is lost or whose GPU calls fail goes on with WASM from its last checkpoint (the session says so
 * in the run's log), and the next run gets a fresh device.
 */
export function nodeBackendPolicy(preference: NodeBackendPreference = 'auto'): BackendPolicy {
  return {
    start: async () => described(await useNodeBackend(preference)),
    fallback: async (failed) => {
      if (failed !== 'webgpu') return null;
      const next = await startWithWasmThreads(mainWasmThreads(), () => selectBackend('wasm', ['wasm', 'cpu']));
      resetWebGpuBackend();
      return described(next);
    },
    device: webGpuDevice,
    helpers: dataParallelHelpers,
  };
}
