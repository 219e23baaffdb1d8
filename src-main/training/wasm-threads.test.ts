import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wasmThreads } from '../../src-shared/engine/backend';
import { TokenSampler } from '../../src-shared/engine/data';
import { fusedKernelsOn } from '../../src-shared/engine/fused-kernels';
import { gptSmall } from '../../src-shared/engine/ladder';
import { createGpt } from '../../src-shared/engine/models/gpt';
import { isoflopProcess } from '../cli/cli-fixture';
import { setWasmThreads, useNodeBackend } from './node-backends';
import { sixStepLosses } from './training-fixture';
import { nodeWorkerFile } from './wasm-threads';

// WASM threads in Node need the build's pthread worker (dist/wasm); the README's test command builds first.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = existsSync(join(root, 'dist', 'wasm', nodeWorkerFile));
if (!built)
  console.warn('WASM thread tests skipped: run `npm run build` first (dist/wasm has no Node pthread worker).');

/** Six steps' losses of a small GPT on `backend`. */
async function losses(backend: 'wasm' | 'cpu') {
  expect(await useNodeBackend(backend)).toBe(backend);
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(40));
  const config = { ...gptSmall, vocabSize: 256, contextLength: 32, dModel: 64, nLayers: 2, nHeads: 2 };
  const model = createGpt({ ...config, embedding: backend === 'wasm' ? 'onehot' : 'gather' }, 5);
  return sixStepLosses(model, new TokenSampler(text, 32, 8, 1));
}

describe.skipIf(!built)('WASM threads in Node', () => {
  it('gives XNNPACK the threads asked for, and trains with the same losses as one thread of JavaScript', async () => {
    // Two threads even on a one-core machine: XNNPACK splits the work the same way. ISOFLOP_PARALLEL=threads
    // gives them to XNNPACK (by default each thread computes a part of the batch: gradient-helpers.test.ts).
    process.env.ISOFLOP_PARALLEL = 'threads';
    setWasmThreads(2);
    const threaded = await losses('wasm').finally(() => {
      delete process.env.ISOFLOP_PARALLEL;
    });
    expect(wasmThreads()).toBe(2);
    // The fused SIMD kernels need the backend's heap, which the threaded build does not export: composites.
    expect(fusedKernelsOn()).toBe(false);
    const reference = await losses('cpu');
    expect(threaded).toHaveLength(6);
    for (const [i, loss] of threaded.entries()) expect(loss).toBeCloseTo(reference[i] as number, 4);
  }, 120_000);

  it('lets the CLI exit when it is done (the pthread workers do not hold it), and says how many threads ran', async () => {
    const args = ['bench', '--model', 'mlp', '--backend', 'wasm', '--steps', '2', '--rounds', '1', '--json'];
    const result = await isoflopProcess(args, { ISOFLOP_WASM_THREADS: '2', ISOFLOP_PARALLEL: 'threads' });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).wasmThreads).toBe(2);
  }, 120_000);
});
