import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../src-shared/engine/adamw';
import { RowSampler, TokenSampler } from '../../src-shared/engine/data';
import { fusedKernelsOn, setFusedKernels } from '../../src-shared/engine/fused-kernels';
import { gptSmall } from '../../src-shared/engine/ladder';
import { createGpt } from '../../src-shared/engine/models/gpt';
import { createMlp } from '../../src-shared/engine/models/mlp';
import type { Model } from '../../src-shared/engine/models/model';
import { planSweep } from '../../src-shared/engine/planner';
import { modelSpecFor } from '../../src-shared/engine/session/run-session';
import { tf } from '../../src-shared/engine/tf';
import { cli, isoflopProcess } from '../cli/cli-fixture';
import { ensureDataDir } from '../store/data-dir';
import { DatasetStore } from '../store/datasets/store';
import { RunStore } from '../store/runs';
import { SweepStore } from '../store/sweeps';
import { tempFolder } from '../testing';
import { nodeBackendOrder, useNodeBackend } from './node-backends';
import { executeRun } from './run-executor';
import { createSweep } from './sweep';
import { sixStepLosses, webGpuForTests } from './training-fixture';

// Headless WebGPU through Dawn, on SwiftShader (webGpuForTests), with the fused kernels (webgpu-fused-kernels.ts),
// which run on hardware adapters only by default: training here exercises them.
const probe = await webGpuForTests();
setFusedKernels('on');

const folder = tempFolder();
afterAll(() => folder.cleanup());

/** Six steps' losses of a freshly built model on `backend`. */
async function losses(backend: 'wasm' | 'webgpu', build: () => Model, sampler: () => RowSampler | TokenSampler) {
  expect(await useNodeBackend(backend)).toBe(backend);
  return sixStepLosses(build(), sampler());
}

describe.skipIf(!probe.available)('headless WebGPU (Dawn)', () => {
  it('names its adapter, and auto leaves a software adapter to WASM unless WebGPU is asked for', async () => {
    expect(probe.detail).toMatch(/\w/);
    expect(probe.adapter?.vendor).toBeTruthy();
    const auto = await nodeBackendOrder('auto');
    if (probe.adapter?.isSoftware) expect(auto).toEqual(['wasm', 'cpu']);
    else expect(auto[0]).toBe('webgpu');
    // The fused kernels, by default, on a hardware adapter only.
    expect(await useNodeBackend('webgpu')).toBe('webgpu');
    setFusedKernels('auto');
    expect(fusedKernelsOn()).toBe(!probe.adapter?.isSoftware);
    setFusedKernels('on');
    expect(fusedKernelsOn()).toBe(true);
    expect(await nodeBackendOrder('webgpu')).toEqual(['webgpu', 'wasm', 'cpu']);
  });

  it('trains the MLP with the same losses as WASM, step by step', async () => {
    const rows = new Float32Array(400 * 4).map((_, i) => Math.sin(i * 0.37));
    const build = () =>
      createMlp({ inputs: 3, width: 16, depth: 2, activation: 'gelu', dropout: 0, task: 'regression', outputs: 1 }, 3);
    const sampler = () => new RowSampler(rows, 3, 8, 5, false);
    const onWasm = await losses('wasm', build, sampler);
    const onGpu = await losses('webgpu', build, sampler);
    expect(onGpu).toHaveLength(6);
    for (const [i, loss] of onGpu.entries()) expect(loss).toBeCloseTo(onWasm[i] as number, 4);
  }, 60_000);

  it('trains the transformer (gather embeddings) with the same losses as WASM (one-hot embeddings)', async () => {
    const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(40));
    const spec = { ...gptSmall, vocabSize: 256, contextLength: 16, dModel: 32, nLayers: 2, nHeads: 2 };
    const build = (backend: 'wasm' | 'webgpu') => () => {
      const model = modelSpecFor({ family: 'gpt', ...spec, embedding: 'gather' }, backend);
      return createGpt(model as typeof spec & { embedding: 'gather' | 'onehot' }, 7);
    };
    const sampler = () => new TokenSampler(text, 16, 8, 1);
    const onWasm = await losses('wasm', build('wasm'), sampler);
    const onGpu = await losses('webgpu', build('webgpu'), sampler);
    expect(onWasm[0]).toBeGreaterThan(4); // about ln(256) at the start
    for (const [i, loss] of onGpu.entries()) expect(loss).toBeCloseTo(onWasm[i] as number, 3);
    expect(onGpu.at(-1)).toBeLessThan(onGpu[0] as number);
  }, 120_000);

  it('clips by the global norm of many parameters as WASM does (AddN over 20 gradients)', async () => {
    const update = async (backend: 'wasm' | 'webgpu') => {
      expect(await useNodeBackend(backend)).toBe(backend);
      // 20 parameters above the joint update's size: 20 norms to add, where a shader stage binds 8 buffers.
      const parameters = Array.from({ length: 20 }, (_, i) => ({
        name: `w${i}`,
        variable: tf.variable(tf.tensor1d(Array.from({ length: 5000 }, (_, j) => Math.sin(i + j)))),
        decay: true,
      }));
      const adamw = new AdamW(parameters);
      const grads = (scale: number, f: (x: number) => number) =>
        parameters.map((_, i) => tf.tensor1d(Array.from({ length: 5000 }, (_, j) => scale * f(i * j + 1))));
      // A clip well under the norms, twice with different norms: Adam's first step is the gradient's sign
      // whatever the clip factor, the second weighs the two steps' clipped gradients.
      const [first, second] = [grads(1, Math.cos), grads(7, Math.sin)];
      tf.tidy(() => adamw.apply(first, 1e-2, 0.5));
      tf.tidy(() => adamw.apply(second, 1e-2, 0.5));
      const values = await Promise.all(parameters.map((p) => p.variable.data()));
      adamw.dispose();
      tf.dispose([...first, ...second, ...parameters.map((p) => p.variable)]);
      return values.map((v) => Array.from(v as Float32Array));
    };
    const onWasm = await update('wasm');
    const onGpu = await update('webgpu');
    for (const [i, weights] of onGpu.entries())
      for (const [j, w] of weights.entries()) expect(w).toBeCloseTo(onWasm[i]?.[j] as number, 5);
  }, 60_000);

  describe('a stored run', () => {
    let stores: { runs: RunStore; sweeps: SweepStore; datasets: DatasetStore };
    let datasetId: string;

    beforeAll(async () => {
      const dataDir = ensureDataDir(join(folder.dir, 'data'));
      stores = { runs: new RunStore(dataDir), sweeps: new SweepStore(dataDir), datasets: new DatasetStore(dataDir) };
      const lines = ['x1,x2,y'];
      for (let i = 0; i < 2000; i++)
        lines.push(`${Math.sin(i)},${Math.cos(i * 0.7)},${Math.sin(i) * Math.cos(i * 0.7)}`);
      const path = join(folder.dir, 'table.csv');
      writeFileSync(path, `${lines.join('\n')}\n`);
      datasetId = (await stores.datasets.importFrom({ source: { path }, path, displayName: 'table.csv' })).id;
    }, 60_000);

    it('goes on with WASM from its last checkpoint when the device is lost, says so, and trains the next on WebGPU', async () => {
      const dataset = await stores.datasets.get(datasetId);
      const plan = planSweep({ dataset, budgets: [1e6], sizesPerBudget: 3, batchSize: 128 });
      const sweep = await createSweep(stores, dataset, plan, { batchSize: 128, seed: 1 });
      // SwiftShader takes ~0.1 s a step: the device is lost in the run of middle length (tens of steps,
      // checkpoints every quarter), and the shortest shows the next run's fresh device.
      const runs = await Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
      const [second, first] = runs.sort((a, b) => a.config.plannedSteps - b.config.plannedSteps).map((r) => r.id);
      if (!first || !second) throw new Error('the plan has fewer than two runs');
      const planned = (await stores.runs.get(first)).config.plannedSteps;
      const lostAt = Math.round(planned / 2);
      const lost = await executeRun(stores, first, { backend: 'webgpu', loseWebGpuDeviceAtStep: lostAt });
      expect(lost.status).toBe('completed');
      expect(lost.environment?.backend).toBe('wasm');
      const log = lost.log.map((entry) => entry.message).join('\n');
      expect(log).toMatch(
        /WebGPU stopped at step \d+: its device was lost \(destroyed[^)]*\)\. The run goes on with wasm from its checkpoint at step \d+\./,
      );
      const steps = (await stores.runs.metrics(first)).map((m) => m.step);
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps.at(-1)).toBe(planned);
      // The lost device is not the next run's: it gets a fresh one.
      const next = await executeRun(stores, second, { backend: 'webgpu' });
      expect(next.status).toBe('completed');
      expect(next.environment).toMatchObject({ backend: 'webgpu', adapter: probe.detail });
      expect(tf.getBackend()).toBe('webgpu');
    }, 300_000);
  });

  it('trains a sweep from the CLI with --backend webgpu, and `runs show` names the adapter', async () => {
    const store = join(folder.dir, 'cli-store');
    const swept = await cli(
      ...['sweep', '--demo', 'teacher', '--budgets', '1e6', '--sizes', '2', '--batch', '256'],
      ...['--backend', 'webgpu', '--store', store, '--json'],
    );
    expect(swept.code, swept.err).toBe(0);
    const runs = JSON.parse(swept.out).runs as Array<{ id: string; status: string }>;
    expect(runs.map((run) => run.status)).toEqual(['completed', 'completed']);
    const shown = await cli('runs', 'show', runs[0]?.id as string, '--store', store);
    expect(shown.out).toContain(`trained on webgpu, ${probe.detail}`);
  }, 300_000);
});

describe('--backend webgpu where Dawn finds no adapter', () => {
  it('stops with what is missing and what to do, not a stack trace, and leaves no run behind', async () => {
    const store = join(folder.dir, 'no-gpu');
    // No Vulkan driver at all: Dawn starts and finds nothing.
    const result = await isoflopProcess(['sweep', '--demo', 'teacher', '--budgets', '1e6', '--backend', 'webgpu'], {
      VK_ICD_FILENAMES: join(folder.dir, 'no-such-icd.json'),
      ISOFLOP_HOME: store,
    });
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/--backend webgpu: .*Train on the CPU with --backend wasm/);
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(store, 'sweeps')) ? readdirSync(join(store, 'sweeps')) : []).toEqual([]);
    expect(existsSync(join(store, 'runs')) ? readdirSync(join(store, 'runs')) : []).toEqual([]);
  }, 60_000);
});
