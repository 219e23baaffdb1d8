import { tf } from './tf';
import { startWasmFusedKernels, wasmFusedKernelTable, wasmFusedReady } from './wasm-fused-kernels';
import { type Inputs, type WebGpuBackend, fusedKernelTable as webGpuKernels } from './webgpu-fused-kernels';

/**
 * When the engine's fused kernels run. Each op the model's hot path composes from several tfjs kernels
 * (GELU, layer norm, the causal softmax, their gradients, AdamW's update) is one kernel instead:
 * - on WebGPU, WGSL shaders (`webgpu-fused-kernels.ts`), registered when the backend starts;
 * - on WASM, a SIMD module compiled from AssemblyScript (`wasm-fused-kernels.ts`), computing on the
 *   backend's own heap, started with the backend.
 * `models/fused.ts` and `adamw.ts` take them where `fusedKernelsOn()` says so (elsewhere the tfjs
 * composites run) and call them through `runFused`.
 */

let webGpuInstalled = false;
let wasmInstalled = false;
/** auto: on WASM, and on WebGPU with a hardware adapter; on and off: whatever the adapter (tests, the naive loop) */
let mode: 'auto' | 'on' | 'off' = 'auto';

/** Registers the fused kernels for `backend` once it has started (WebGPU, WASM; others have none). */
export async function installFusedKernels(backend: string): Promise<void> {
  if (backend === 'webgpu' && !webGpuInstalled) {
    webGpuInstalled = true;
    for (const kernel of webGpuKernels) {
      tf.registerKernel({
        kernelName: kernel.name,
        backendName: 'webgpu',
        kernelFunc: (args) => kernel.run(args, args.backend as unknown as WebGpuBackend, args.inputs as Inputs),
      });
    }
  }
  if (backend === 'wasm') {
    await startWasmFusedKernels(tf.backend());
    if (!wasmInstalled) {
      wasmInstalled = true;
      for (const kernel of wasmFusedKernelTable) {
        tf.registerKernel({ kernelName: kernel.name, backendName: 'wasm', kernelFunc: kernel.run });
      }
    }
  }
}

/**
 * Whether WebGPU's adapter is a software one (SwiftShader: WebGPU computed on the CPU). There the fused
 * kernels are left off by default: SwiftShader compiles each new shader on the CPU, and in Chromium on two
 * cores compiling these (longer, with loops and workgroup reductions) stretched the page's main-thread
 * tasks past 50 ms while the bench trained in its worker, for a step 5% faster at best.
 */
function softwareAdapter(): boolean {
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  return /swiftshader/i.test(`${info?.vendor ?? ''} ${info?.architecture ?? ''}`);
}

/** Whether the model's ops and AdamW take the fused kernels on the current backend, as `mode` says. */
export function fusedKernelsOn(): boolean {
  if (mode === 'off') return false;
  const backend = tf.getBackend();
  // WASM's module runs only on a backend whose heap it could import (not tfjs's threaded build).
  if (backend === 'wasm') return wasmInstalled && wasmFusedReady(tf.backend());
  if (backend === 'webgpu') return webGpuInstalled && (mode === 'on' || !softwareAdapter());
  return false;
}

/** Sets when the fused kernels run: `auto` (the default; not on software WebGPU adapters); `on` and `off` always. */
export function setFusedKernels(next: 'auto' | 'on' | 'off'): void {
  mode = next;
}

/** Runs `work` with the fused kernels off (the composites run), as the benchmark's naive loop does. */
export async function withoutFusedKernels<T>(work: () => T | Promise<T>): Promise<T> {
  const before = mode;
  mode = 'off';
  try {
    return await work();
  } finally {
    mode = before;
  }
}

/** The fused kernels in use on `backend`, for the bench's list. */
export function fusedKernels(backend: string): string[] {
  if (backend !== tf.getBackend() || !fusedKernelsOn()) return [];
  const names = backend === 'webgpu' ? webGpuKernels.map((k) => k.name) : wasmFusedKernelTable.map((k) => k.name);
  return names.map((name) => `${name} (${backend})`);
}

/** Runs a fused kernel on the current backend. */
export function runFused(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}) {
  return tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor | tf.Tensor[];
}
