import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../src-shared/engine/tf';

/**
 * XNNPACK's thread pool for the WASM backend in Node. tfjs-backend-wasm 4.22 turns threads off in Node
 * (tensorflow/tfjs#3830), and its threaded build cannot start there as published: it hands Emscripten's
 * pthread workers a blob: URL, which Node's worker threads refuse (ERR_WORKER_PATH), and it caps the pool
 * at half the logical cores (it assumes two hyper-threads a core: a 2-core machine gets one thread).
 *
 * The build writes a pthread worker for Node beside the WASM binaries (`dist/wasm`, see
 * scripts/build.mjs): tfjs's own worker script, which runs under Node's worker_threads, with two lines
 * first that load the Emscripten factory from the file beside it instead of a blob. While the backend
 * starts, the blob: URLs tfjs makes for the worker are answered with that file's path, and `os.cpus()`
 * counts twice the threads wanted, so that tfjs's halving gives the pool exactly that many.
 */

export const nodeWorkerFile = 'tfjs-backend-wasm-threaded-simd.node-worker.cjs';
export const factoryFile = 'tfjs-backend-wasm-threaded-simd.js';

/** The folder with the threaded build's files: beside the bundled CLI, or a source checkout's build. */
function threadsFolder(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const folder of [join(here, '..', 'wasm'), join(here, '..', '..', 'dist', 'wasm')]) {
    if (existsSync(join(folder, nodeWorkerFile)) && existsSync(join(folder, factoryFile))) return folder;
  }
  return null;
}

/** Cores for the whole process tree: `ISOFLOP_WASM_THREADS` if set, else the machine's cores. */
export function defaultWasmThreads(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.ISOFLOP_WASM_THREADS);
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, 8);
  return Math.max(1, Math.min(os.availableParallelism(), 8));
}

/**
 * Runs `start` (which may start the WASM backend) so that WASM gets `threads` threads. One thread, or a
 * source checkout not built yet (no Node worker), starts tfjs's single-threaded build as before.
 */
export async function startWithWasmThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const folder = threads > 1 ? threadsFolder() : null;
  if (!folder) return start();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  const worker = join(folder, nodeWorkerFile);
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = () => worker;
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus()[i % cpus().length] as os.CpuInfo);
  try {
    const started = await start();
    unrefPthreads();
    return started;
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

interface EmscriptenThreads {
  PThread?: { unusedWorkers: Array<{ unref(): void }>; runningWorkers: Array<{ unref(): void }> };
}

/**
 * XNNPACK's threads wait for work for the life of the backend, and Node would wait for them: a finished
 * command would never exit. Unreferenced, they keep working while the main thread trains, and let it end.
 */
function unrefPthreads(): void {
  if (tf.getBackend() !== 'wasm') return;
  const { PThread } = (tf.backend() as unknown as { wasm: EmscriptenThreads }).wasm;
  for (const worker of [...(PThread?.unusedWorkers ?? []), ...(PThread?.runningWorkers ?? [])]) worker.unref();
}
