import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { BackendProbe } from '../../src-shared/contract/backend';
import { type GpuAdapterInfoLike, type GpuAdapterLike, probeWebGpu } from '../../src-shared/engine/probe';
import { tf } from '../../src-shared/engine/tf';

/**
 * WebGPU in Node, through Dawn (the `webgpu` package, the WebGPU implementation Chromium uses). Dawn finds
 * the machine's GPU through its Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver; where none is,
 * a Vulkan software ICD (SwiftShader: `VK_ICD_FILENAMES`) gives a software adapter, which the CLI uses
 * only when asked (`--backend webgpu`).
 *
 * The `webgpu` package is loaded on first use, never at start: a CLI that trains on WASM does not need it,
 * and a platform it has no build for gets a plain "WebGPU is unavailable" rather than a crash.
 */

interface DawnModule {
  create(flags: string[]): {
    requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<DawnAdapter | null>;
  };
  globals: Record<string, unknown>;
}

/** The parts of Dawn's adapter tfjs's backend factory reads. */
interface DawnAdapter extends GpuAdapterLike {
  features: { has(name: string): boolean };
  limits: Record<string, number>;

  requestDevice(descriptor: object): Promise<unknown>;
}

export interface NodeWebGpu {
  /** what the probe says: the adapter (vendor, architecture, software or not), or why there is none */
  probe: BackendProbe;
}

let loading: Promise<NodeWebGpu> | null = null;
let probing: Promise<BackendProbe> | null = null;
let factory: (() => Promise<tf.KernelBackend>) | null = null;

/** Dawn's GPU, its adapter described, and tfjs's `webgpu` backend registered on it (once per process). */
export function nodeWebGpu(): Promise<NodeWebGpu> {
  loading ??= load();
  return loading;
}

const unavailable = (detail: string): BackendProbe => ({ backend: 'webgpu', available: false, detail, adapter: null });

/** Dawn's Vulkan loader looks for a runtime folder and warns on every start without one (containers, CI). */
function runtimeDir(): string {
  process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), 'isoflop-xdg-'));
  return process.env.XDG_RUNTIME_DIR;
}

/**
 * What Dawn's adapter is, asked in a child process: `--backend auto` looks for a GPU on every run, and on
 * a machine without one Dawn prints its drivers' refusals (a Mesa software driver it does not support) to
 * the terminal, where a native crash in a driver would also end the command. The child takes both; Dawn
 * is loaded here only when there is a GPU to train on. Once per process.
 */
export function probeDawnApart(): Promise<BackendProbe> {
  probing ??= new Promise((resolve) => {
    let entry: string;
    try {
      entry = createRequire(import.meta.url).resolve('webgpu');
    } catch {
      resolve(unavailable('Dawn (the webgpu package) is not installed.'));
      return;
    }
    const script = [
      `const { create } = await import(${JSON.stringify(pathToFileURL(entry).href)});`,
      "const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });",
      'const info = adapter ? adapter.info : null;',
      'const described = info && { vendor: info.vendor, architecture: info.architecture, device: info.device,',
      '  description: info.description, isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter };',
      'process.stdout.write(JSON.stringify(described), () => process.exit(0));',
    ].join('\n');
    execFile(
      process.execPath,
      ['--input-type=module', '--eval', script],
      { timeout: 30_000, env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir() } },
      (error, stdout) => {
        let info: GpuAdapterInfoLike | null = null;
        try {
          info = JSON.parse(stdout) as GpuAdapterInfoLike | null;
        } catch {
          resolve(unavailable(`Dawn did not answer (${error?.message.split('\n')[0] ?? 'no adapter'}).`));
          return;
        }
        resolve(probeWebGpu({ requestAdapter: async () => (info ? { info } : null) }).then(withDriverHint));
      },
    );
  });
  return probing;
}

function withDriverHint(probe: BackendProbe): BackendProbe {
  if (probe.available) return probe;
  const driver = "Dawn needs the GPU's Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver.";
  const detail = /no adapter/.test(probe.detail) ? `Dawn found no GPU here: ${driver}` : `${probe.detail} ${driver}`;
  return { ...probe, detail };
}

async function load(): Promise<NodeWebGpu> {
  const missing = (detail: string): NodeWebGpu => ({ probe: unavailable(detail) });
  runtimeDir();
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return missing(`Dawn (the webgpu package) did not load on ${process.platform}-${process.arch}: ${why}`);
  }
  let gpu: ReturnType<DawnModule['create']>;
  try {
    gpu = dawn.create([]);
  } catch (error) {
    return missing(`Dawn did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
  const probe = withDriverHint(await probeWebGpu(gpu));
  if (!probe.available) return { probe };
  // tfjs's WebGPU backend names the WebGPU constants (GPUBufferUsage, GPUMapMode...) as globals, as a browser has.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  // ...and checks navigator.gpu, which Node (20) lacks or (21+) has without a GPU.
  const host = globalThis as { navigator?: object };
  if (!host.navigator)
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(host.navigator, 'gpu', { value: gpu, configurable: true });
  factory = async () => {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('Dawn offered no adapter');
    const limits = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      },
    });
    return new WebGPUBackend(device as never, adapter.info as never);
  };
  // tfjs registers its own factory only where navigator.gpu exists at import; this is the same factory on Dawn.
  tf.registerBackend('webgpu', factory, 3);
  return { probe };
}

/**
 * Forgets the WebGPU backend (after its device was lost: its device is gone for good), so that the next
 * `tf.setBackend('webgpu')` asks Dawn for a fresh device. Call it once training is on another backend.
 */
export function resetWebGpuBackend(): void {
  if (!factory || !tf.findBackendFactory('webgpu')) return;
  try {
    tf.removeBackend('webgpu');
  } catch {
    // A lost device may refuse to free its buffers; the backend is dropped all the same.
  }
  tf.registerBackend('webgpu', factory, 3);
}
