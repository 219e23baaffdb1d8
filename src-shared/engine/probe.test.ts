import { describe, expect, it } from 'vitest';
import { probeBackends, probeWasm, probeWebGl, probeWebGpu, trainingOrder } from './probe';

describe('backend probe', () => {
  it("finds Node's own WebAssembly, with SIMD", () => {
    const probe = probeWasm({ webAssembly: WebAssembly, threads: 4 });
    expect(probe.available).toBe(true);
    expect(probe.detail).toContain('SIMD');
    expect(probe.detail).not.toContain('no SIMD');
    expect(probe.detail).toContain('4 threads (data parallel');
    expect(probeWasm({ webAssembly: WebAssembly }).detail).toBe('SIMD, 1 thread');
  });

  it('says why WebGPU is missing', async () => {
    expect((await probeWebGpu(undefined)).detail).toContain('navigator.gpu');
    const noAdapter = await probeWebGpu({ requestAdapter: async () => null });
    expect(noAdapter.available).toBe(false);
    expect(noAdapter.detail).toContain('no adapter');
    const throws = await probeWebGpu({
      requestAdapter: async () => {
        throw new Error('device lost');
      },
    });
    expect(throws.detail).toContain('device lost');
  });

  it("reads the adapter's vendor and architecture, and flags software adapters", async () => {
    const swiftshader = await probeWebGpu({
      requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader' } }),
    });
    expect(swiftshader.available).toBe(true);
    expect(swiftshader.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', isSoftware: true });
    const older = await probeWebGpu({
      requestAdapter: async () => ({
        requestAdapterInfo: async () => ({ vendor: 'nvidia', architecture: 'hopper' }),
      }),
    });
    expect(older.adapter).toMatchObject({ vendor: 'nvidia', architecture: 'hopper', isSoftware: false });
    expect(older.detail).toBe('nvidia · hopper');
  });

  it('falls through WebGPU and WebGL to WebAssembly, and always has the CPU', async () => {
    const report = await probeBackends({ webAssembly: WebAssembly });
    expect(report.probes.map((probe) => probe.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(report.chosen).toBe('wasm');
    const bare = await probeBackends({});
    expect(bare.chosen).toBe('cpu');
  });

  it('puts a software WebGPU adapter after WebGL, and a hardware one first', async () => {
    const gl = () => ({ getParameter: () => 'ANGLE (SwiftShader)', getExtension: () => null });
    const software = await probeBackends({
      gpu: { requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader' } }) },
      createWebGl2: gl,
      webAssembly: WebAssembly,
    });
    expect(software.chosen).toBe('webgl');
    expect(trainingOrder(software)).toEqual(['webgl', 'webgpu', 'wasm', 'cpu']);
    const hardware = await probeBackends({
      gpu: { requestAdapter: async () => ({ info: { vendor: 'nvidia', architecture: 'hopper' } }) },
      createWebGl2: gl,
      webAssembly: WebAssembly,
    });
    expect(trainingOrder(hardware)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });

  it('reports WebGL as missing when the context cannot be made', () => {
    expect(probeWebGl(() => null).available).toBe(false);
    expect(probeWebGl(undefined).available).toBe(false);
  });
});
