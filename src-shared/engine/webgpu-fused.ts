import { tf } from './tf';
import { type Inputs, fusedKernelTable as kernels, type WebGpuBackend } from './webgpu-fused-kernels';

/**
 * When the fused WGSL kernels (`webgpu-fused-kernels.ts`) run: registered for WebGPU when the backend
 * starts, taken by `models/fused.ts` and `adamw.ts` where `fusedKernelsOn()` says so (elsewhere the tfjs
 * composites run), and called through `runFused`.
 */

let installed = false;
/** auto: on a hardware adapter only; on and off: whatever the adapter (tests, the benchmark's naive loop) */
let mode: 'auto' | 'on' | 'off' = 'auto';

/** Registers the fused kernels for WebGPU, once (the backend need not have started). */
export function installWebGpuFusedKernels(): void {
  if (installed) return;
  installed = true;
  for (const kernel of kernels) {
    tf.registerKernel({
      kernelName: kernel.name,
      backendName: 'webgpu',
      kernelFunc: (args) => kernel.run(args, args.backend as unknown as WebGpuBackend, args.inputs as Inputs),
    });
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

/** Whether the model's ops and AdamW take the fused kernels: on WebGPU, once installed, as `mode` says. */
export function fusedKernelsOn(): boolean {
  if (!installed || mode === 'off' || tf.getBackend() !== 'webgpu') return false;
  return mode === 'on' || !softwareAdapter();
}

/** Sets when the fused kernels run: `auto` (the default) on hardware adapters only; `on` and `off` always. */
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
  return backend === 'webgpu' && fusedKernelsOn() ? kernels.map((kernel) => `${kernel.name} (webgpu)`) : [];
}

/** Runs a fused kernel on the current backend. */
export function runFused(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number> = {}) {
  return tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor | tf.Tensor[];
}
