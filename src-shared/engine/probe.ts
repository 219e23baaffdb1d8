import type { BackendName, BackendProbe, BackendReport, GpuAdapter } from '../contract/backend';

/**
 * Which training backends this environment can give, tried in order WebGPU -> WebGL -> WASM -> CPU.
 * Platform-neutral: the caller hands in what its environment has (a Worker's navigator.gpu,
 * Dawn's GPU object in Node, an OffscreenCanvas).
 */

/** The few parts of WebGPU's API the probe reads. */
export interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<GpuAdapterInfoLike>;
}
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

/** The few parts of a WebGL2 context the probe reads. */
export interface WebGlLike {
  getParameter(name: number): unknown;
  getExtension(name: string): unknown;
}

export interface ProbeEnvironment {
  gpu?: GpuLike | undefined;
  createWebGl2?: (() => WebGlLike | null) | undefined;
  webAssembly?: { validate(bytes: Uint8Array<ArrayBuffer>): boolean } | undefined;
  /** the threads a WASM run may use: its own, and helpers that each compute a part of every batch of a large
   * enough model (data parallelism, gradient-pool.ts); 1 where there are no workers */
  threads?: number;
}

const softwareRenderers = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function probeWebGpu(gpu: GpuLike | undefined): Promise<BackendProbe> {
  const missing = (detail: string): BackendProbe => ({ backend: 'webgpu', available: false, detail, adapter: null });
  if (!gpu) return missing('This environment has no WebGPU (navigator.gpu is missing).');
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return missing('WebGPU is present but offered no adapter (GPU blocklisted or drivers missing).');
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    const described: GpuAdapter = {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      isSoftware: false,
    };
    described.isSoftware =
      Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) ||
      softwareRenderers.test(`${described.vendor} ${described.architecture} ${described.description}`);
    const name = [described.vendor, described.architecture].filter(Boolean).join(' · ') || 'unnamed adapter';
    const detail = described.isSoftware ? `${name} (software: runs on the CPU)` : name;
    return { backend: 'webgpu', available: true, detail, adapter: described };
  } catch (error) {
    return missing(`WebGPU failed to give an adapter: ${describeError(error)}`);
  }
}

const glRenderer = 0x1f01;
const glVersion = 0x1f02;
const unmaskedRenderer = 0x9246;

export function probeWebGl(createWebGl2: ProbeEnvironment['createWebGl2']): BackendProbe {
  const missing = (detail: string): BackendProbe => ({ backend: 'webgl', available: false, detail, adapter: null });
  if (!createWebGl2) return missing('This environment has no WebGL (no OffscreenCanvas).');
  try {
    const gl = createWebGl2();
    if (!gl) return missing('WebGL2 is disabled or unsupported here.');
    const debugInfo = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(debugInfo ? unmaskedRenderer : glRenderer) ?? '');
    const version = String(gl.getParameter(glVersion) ?? 'WebGL 2.0');
    const detail = renderer ? `${version}, ${renderer}` : version;
    return {
      backend: 'webgl',
      available: true,
      detail: softwareRenderers.test(renderer) ? `${detail} (software: runs on the CPU)` : detail,
      adapter: null,
    };
  } catch (error) {
    return missing(`WebGL2 failed to start: ${describeError(error)}`);
  }
}

// The smallest module using a SIMD instruction: (func (result v128) (v128.const i32x4 0 0 0 0))
const simdModule = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 11,
]);
const emptyModule = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

export function probeWasm(env: ProbeEnvironment): BackendProbe {
  const wasm = env.webAssembly;
  if (!wasm?.validate(emptyModule)) {
    return { backend: 'wasm', available: false, detail: 'WebAssembly is not available here.', adapter: null };
  }
  const simd = wasm.validate(simdModule);
  const threads = Math.max(1, Math.floor(env.threads ?? 1));
  const features = [
    simd ? 'SIMD' : 'no SIMD',
    threads > 1 ? `${threads} threads (data parallel, for large models)` : '1 thread',
  ];
  return { backend: 'wasm', available: true, detail: features.join(', '), adapter: null };
}

export async function probeBackends(env: ProbeEnvironment): Promise<BackendReport> {
  const probes: BackendProbe[] = [
    await probeWebGpu(env.gpu),
    probeWebGl(env.createWebGl2),
    probeWasm(env),
    { backend: 'cpu', available: true, detail: 'Plain JavaScript: always there, slowest.', adapter: null },
  ];
  return { chosen: trainingOrder({ chosen: 'cpu', probes })[0] ?? 'cpu', probes };
}

/**
 * The order to try backends in: WebGPU, WebGL, WASM, CPU, except that a software WebGPU adapter
 * (SwiftShader and the like) goes after WebGL, which is several times faster on the same CPU.
 */
export function trainingOrder(report: BackendReport): BackendName[] {
  const available = report.probes.filter((probe) => probe.available);
  const softwareGpu = available.some((probe) => probe.backend === 'webgpu' && probe.adapter?.isSoftware);
  const hasWebGl = available.some((probe) => probe.backend === 'webgl');
  const order: BackendName[] = available.map((probe) => probe.backend);
  if (!softwareGpu || !hasWebGl) return order;
  const rank: Record<BackendName, number> = { webgl: 0, webgpu: 1, wasm: 2, cpu: 3 };
  return order.sort((a, b) => rank[a] - rank[b]);
}
