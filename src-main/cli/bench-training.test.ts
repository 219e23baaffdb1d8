import { describe, expect, it } from 'vitest';
import type { TrainingBench } from '../../src-shared/engine/bench';
import { parallelMode } from '../training/node-backends';
import { defaultWasmThreads } from '../training/wasm-threads';
import { cli } from './cli-fixture';

const wasmSwaps = ['BatchMatMul (wasm)', 'Tanh (wasm)', 'Sum (wasm)', 'Identity (wasm)'];
/** The fused kernels' SIMD module, which the engine starts on WASM's heap (AdamW's run even for an MLP). */
const wasmFused = [
  'IsoflopGelu',
  'IsoflopGeluGrad',
  'IsoflopLayerNorm',
  'IsoflopLayerNormGrad',
  'IsoflopCausalSoftmax',
  'IsoflopSoftmaxGrad',
  'IsoflopAdamWMoment',
  'IsoflopAdamWStep',
].map((name) => `${name} (wasm)`);
/** tfjs's threaded build (ISOFLOP_PARALLEL=threads) has no heap to import: the composites run there. */
const fusedInThisMode = () => (parallelMode() === 'data' ? wasmFused : []);

// `isoflop bench` trains the same model twice (engine and naive loop) in this process and prints both.
describe('isoflop bench (training)', () => {
  it("prints the JSON the issue names, with WASM's threads as the mode gives them", async () => {
    const { code, out } = await cli(
      'bench',
      ...['--model', 'mlp', '--backend', 'wasm', '--steps', '3', '--rounds', '2', '--json'],
    );
    expect(code).toBe(0);
    const result = JSON.parse(out) as TrainingBench;
    expect(result).toMatchObject({
      steps: 3,
      rounds: 2,
      kernelSwaps: [...wasmSwaps, ...fusedInThisMode()],
    });
    for (const loop of [result.engine, result.baseline]) {
      expect(loop.backend).toBe('wasm');
      expect(loop.tokensPerSec).toBeGreaterThan(0);
      expect(loop.gflops).toBeCloseTo((loop.tokensPerSec * result.flopsPerToken) / 1e9, 6);
    }
    expect(result.ratio).toBeCloseTo(result.engine.tokensPerSec / result.baseline.tokensPerSec, 6);
    // ISOFLOP_PARALLEL=data (the default): one thread here, the others as helpers for large models;
    // threads: XNNPACK's pool on every core (at most 8).
    expect(result.wasmThreads).toBe(parallelMode() === 'data' ? 1 : defaultWasmThreads());
    expect(result.dataParallel).toBeNull(); // the MLP's step is too small for helpers
    expect(result.oneThread).toBeNull(); // and so there is no one-thread loop to set beside it
  }, 120_000);

  it("prints a GPT step's peak beside what it needs by count, and the engine's peak is under twice that", async () => {
    const { code, out } = await cli(
      'bench',
      '--model',
      'gpt-small',
      '--backend',
      'wasm',
      '--steps',
      '1',
      '--rounds',
      '1',
    );
    expect(code).toBe(0);
    const count = out.match(
      /^by count: ([\d.]+) MB \(weights, gradients, AdamW's moments .*; the engine's peak is ([\d.]+)x of it$/m,
    );
    expect(count, out).not.toBeNull();
    // 4 floats a parameter and 11,008 a token (4 blocks of 8·128 + 2·512 + 4·128, 2·128 + 2·256), 4,096 tokens.
    expect(Number(count?.[1])).toBeCloseTo((4 * (4 * 839_680 + 11_008 * 4096)) / 1e6, 0);
    expect(Number(count?.[2])).toBeLessThan(2);
    // The naive loop, on tfjs's own tape, holds far more.
    const peaks = [...out.matchAll(/^(engine|naive) +wasm .* (\d+) MB$/gm)].map((m) => Number(m[2]));
    expect(peaks).toHaveLength(2);
    expect(peaks[1]).toBeGreaterThan(2 * (peaks[0] as number));
  }, 180_000);

  it('names no WASM threads on the CPU backend, and says so in the table', async () => {
    const json = JSON.parse(
      (await cli('bench', '--model', 'mlp', '--backend', 'cpu', '--steps', '2', '--rounds', '1', '--json')).out,
    );
    expect(json.wasmThreads).toBeNull();
    expect(json.kernelSwaps).toEqual([]);
    const wasm = await cli('bench', '--model', 'mlp', '--backend', 'wasm', '--steps', '2', '--rounds', '1');
    expect(wasm.out).toContain('2 timed steps a round, fastest of 1 alternating rounds');
    // By default (ISOFLOP_PARALLEL=data) this process's WASM computes on one thread; a model this small has
    // no helper threads either (its step is below dataParallelMinFlops).
    expect(wasm.out).toContain(`WASM threads: ${parallelMode() === 'data' ? 1 : defaultWasmThreads()} (XNNPACK's pool`);
    expect(wasm.out).not.toContain('data parallel:');
    expect(wasm.out).toContain(`engine kernels: ${[...wasmSwaps, ...fusedInThisMode()].join(', ')} in place of`);
    expect(wasm.out).toMatch(/engine \/ naive: \d+\.\d\dx/);
  }, 120_000);

  it("--profile prints each kernel's time over a step, sorted, shares adding to the whole", async () => {
    const { code, out } = await cli(
      'bench',
      '--profile',
      '--model',
      'mlp',
      '--backend',
      'wasm',
      '--steps',
      '2',
      '--json',
    );
    expect(code).toBe(0);
    const result = JSON.parse(out) as {
      backend: string;
      steps: number;
      wallMs: number;
      kernelMs: number;
      kernels: Array<{ kernel: string; calls: number; ms: number; share: number }>;
    };
    expect(result).toMatchObject({ backend: 'wasm', steps: 2 });
    expect(result.kernels.map((k) => k.kernel)).toContain('BatchMatMul');
    expect(result.kernels.reduce((sum, k) => sum + k.share, 0)).toBeCloseTo(1, 9);
    const ms = result.kernels.map((k) => k.ms);
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
    expect(result.kernels.every((k) => k.calls > 0)).toBe(true);
    const table = await cli('bench', '--profile', '--model', 'mlp', '--backend', 'wasm');
    expect(table.out).toMatch(/^mlp on wasm: 1 step, \d+ ms wall, \d+ ms in \d+ kernel calls/);
    expect(table.out).toMatch(/\nBatchMatMul\s+\d+\s+[\d.]+\s+[\d.]+%/);
  }, 120_000);
});
