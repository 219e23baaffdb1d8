import { z } from 'zod';

/** Training backends, in the order IsoFLOP tries them. */
export const backendOrder = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export const BackendName = z.enum(backendOrder);
export type BackendName = z.infer<typeof BackendName>;

export const backendLabels: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly',
  cpu: 'CPU (JavaScript)',
};

export const GpuAdapter = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  /** SwiftShader and friends: real WebGPU, computed on the CPU. */
  isSoftware: z.boolean(),
});
export type GpuAdapter = z.infer<typeof GpuAdapter>;

export const BackendProbe = z.object({
  backend: BackendName,
  available: z.boolean(),
  /** One line a person can read: the renderer's name, or why it is missing. */
  detail: z.string(),
  adapter: GpuAdapter.nullable(),
});
export type BackendProbe = z.infer<typeof BackendProbe>;

export const BackendReport = z.object({
  /** The first available backend in order: what training will use unless the user picks another. */
  chosen: BackendName,
  probes: z.array(BackendProbe),
});
export type BackendReport = z.infer<typeof BackendReport>;
