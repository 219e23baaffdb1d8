/** The fused WASM kernels' bytes, compiled from src-shared/engine/wasm-fused/kernels.as.ts. */
export function compileKernels(): Promise<Uint8Array<ArrayBuffer>>;
/** The text of kernels.wasm.ts for `binary`. */
export function kernelsModule(binary: Uint8Array): string;
