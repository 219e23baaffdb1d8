import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// Starting the fused SIMD kernels on a WASM backend's heap never stops WASM itself: where they cannot run,
// the backend trains on the composites. A backend here is what the module reads of tfjs-backend-wasm's.
const backendWith = (memory: unknown) => ({ wasm: { asm: { memory } } });

/** The module afresh for each test: it keeps its compiled module between calls. */
let startWasmFusedKernels: typeof import('./wasm-fused-kernels').startWasmFusedKernels;
let wasmFusedReady: typeof import('./wasm-fused-kernels').wasmFusedReady;

describe('starting the fused WASM kernels', () => {
  beforeEach(async () => {
    vi.resetModules();
    ({ startWasmFusedKernels, wasmFusedReady } = await import('./wasm-fused-kernels'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("instantiates on a backend's own memory, once per backend", async () => {
    const backend = backendWith(new WebAssembly.Memory({ initial: 1 }));
    expect(wasmFusedReady(backend)).toBe(false);
    await startWasmFusedKernels(backend);
    expect(wasmFusedReady(backend)).toBe(true);
    expect(wasmFusedReady(backendWith(new WebAssembly.Memory({ initial: 1 })))).toBe(false);
  });

  it('leaves them off, without throwing, where there is no heap to import or it is shared', async () => {
    for (const backend of [
      backendWith(undefined),
      { wasm: {} },
      backendWith(new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true })),
    ]) {
      await startWasmFusedKernels(backend);
      expect(wasmFusedReady(backend)).toBe(false);
    }
  });

  it('leaves them off where the module does not compile (no SIMD), and tries again for the next backend', async () => {
    const compile = vi.spyOn(WebAssembly, 'compile').mockRejectedValueOnce(new Error('SIMD unsupported'));
    const first = backendWith(new WebAssembly.Memory({ initial: 1 }));
    await startWasmFusedKernels(first);
    expect(wasmFusedReady(first)).toBe(false);
    const next = backendWith(new WebAssembly.Memory({ initial: 1 }));
    await startWasmFusedKernels(next);
    expect(wasmFusedReady(next)).toBe(true);
    expect(compile).toHaveBeenCalledTimes(2);
  });
});
