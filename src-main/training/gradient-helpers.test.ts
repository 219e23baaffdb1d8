import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchSpec, benchTraining } from '../../src-shared/engine/bench';
import { TokenSampler } from '../../src-shared/engine/data';
import { dataParallelMinFlops } from '../../src-shared/engine/gradient-pool';
import { gptForParams } from '../../src-shared/engine/ladder';
import { createGpt } from '../../src-shared/engine/models/gpt';
import type { GradientHelpers } from '../../src-shared/engine/trainer-types';
import { ensureDataDir } from '../store/data-dir';
import { ensureDemos } from '../store/datasets/demos/demos';
import { DatasetStore } from '../store/datasets/store';
import { RunStore } from '../store/runs';
import { StudyStore } from '../store/studies';
import { tempFolder } from '../testing';
import { createStudy } from '../usecases/studies';
import { startGradientHelpers } from './gradient-helpers';
import { dataParallelHelpers, setWasmThreads, useNodeBackend } from './node-backends';
import { runStudy } from './study';
import { stepLosses } from './training-fixture';

// Data parallelism on WASM: helper threads (the bundled gradient-worker, which tests/global-setup.ts builds)
// each compute a part of every batch with their own copy of the model.

const config = {
  vocabSize: 256,
  contextLength: 16,
  dModel: 32,
  nLayers: 2,
  nHeads: 2,
  dropout: 0,
  embedding: 'onehot',
  positions: 'learned',
  tiedEmbedding: true,
} as const;
const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog. '.repeat(60));

/** Training losses of 8 steps of batch 12; `during` runs after each step's loss. */
const losses = (helpers: GradientHelpers | null, during?: (step: number) => void) =>
  stepLosses(createGpt(config as never, 5), new TokenSampler(text, 16, 12, 3), {
    batchSize: 12,
    steps: 8,
    helpers,
    ...(during ? { onStep: during } : {}),
  });

describe('data-parallel training on WASM', () => {
  it('gives the same losses with 1 or 2 helper threads as this thread alone (parts of 12 rows: 6/6, 4/4/4)', async () => {
    setWasmThreads(1);
    expect(await useNodeBackend('wasm')).toBe('wasm');
    const alone = await losses(null);
    for (const count of [1, 2]) {
      const helpers = await startGradientHelpers({ family: 'gpt', ...config } as never, 5, 12, count);
      expect(helpers?.count).toBe(count);
      try {
        const shared = await losses(helpers);
        expect(shared).toHaveLength(8);
        for (const [i, loss] of shared.entries()) expect(loss).toBeCloseTo(alone[i] as number, 4);
      } finally {
        await helpers?.close();
      }
    }
    expect(alone.at(-1)).toBeLessThan(alone[0] as number);
  }, 120_000);

  it('goes on alone when a helper thread dies mid-run, with the same losses', async () => {
    await useNodeBackend('wasm');
    const alone = await losses(null);
    const helpers = await startGradientHelpers({ family: 'gpt', ...config } as never, 5, 12, 1);
    if (!helpers) throw new Error('no helper started');
    const shared = await losses(helpers, (step) => {
      if (step === 3) void helpers.close();
    });
    expect(shared).toHaveLength(8);
    for (const [i, loss] of shared.entries()) expect(loss).toBeCloseTo(alone[i] as number, 4);
  }, 120_000);

  it('starts helpers only on WASM, for a step large enough, in data mode', async () => {
    const spec = { family: 'gpt', ...config } as never;
    // This model's step is far below the threshold: the messages would cost more than the part saves.
    expect(dataParallelMinFlops).toBe(1e9);
    expect(await dataParallelHelpers('wasm', spec, 1, 12)).toBeNull();
    const large = { family: 'gpt', ...config, dModel: 128, contextLength: 128 } as never;
    expect(await dataParallelHelpers('cpu', large, 1, 64)).toBeNull();
    const before = process.env.ISOFLOP_PARALLEL;
    process.env.ISOFLOP_PARALLEL = 'threads';
    try {
      expect(await dataParallelHelpers('wasm', large, 1, 64)).toBeNull();
    } finally {
      if (before === undefined) delete process.env.ISOFLOP_PARALLEL;
      else process.env.ISOFLOP_PARALLEL = before;
    }
    setWasmThreads(2);
    const helpers = await dataParallelHelpers('wasm', large, 1, 64);
    expect(helpers?.count).toBe(1);
    await helpers?.close();
  }, 60_000);

  it('the bench times gpt-small data parallel and on one thread, in the same alternating rounds', async () => {
    await useNodeBackend('wasm');
    const { spec, batchSize } = benchSpec('gpt-small');
    const helpers = await startGradientHelpers(spec, 1, batchSize, 1);
    if (!helpers) throw new Error('no helper started');
    try {
      const result = await benchTraining('gpt-small', 1, 1, helpers);
      expect(result.dataParallel).toBe(2);
      const oneThread = result.oneThread;
      expect(oneThread?.tokensPerSec).toBeGreaterThan(0);
      expect(oneThread?.speedup).toBeCloseTo(result.engine.tokensPerSec / (oneThread?.tokensPerSec ?? 0), 6);
    } finally {
      await helpers.close();
    }
  }, 120_000);

  it.runIf(availableParallelism() >= 2)(
    'a stored run of a large enough model trains data parallel, and its log says so',
    async () => {
      const folder = tempFolder();
      try {
        const dataDir = ensureDataDir(join(folder.dir, 'data'));
        const stores = {
          runs: new RunStore(dataDir),
          datasets: new DatasetStore(dataDir),
          studies: new StudyStore(dataDir),
        };
        await ensureDemos(stores.datasets);
        const model = {
          family: 'gpt' as const,
          ...gptForParams(2e5, {
            vocabSize: 256,
            contextLength: 64,
            positions: 'learned',
            tiedEmbeddings: true,
            dropout: 0,
            embedding: 'onehot',
          }),
        };
        // Over 1e9 FLOPs a step (about 6 · 200k parameters · 2,048 tokens): helpers start.
        const study = await createStudy(stores, {
          datasetId: 'demo-language',
          space: { learningRate: { type: 'choice', values: [1e-3] } },
          sampler: 'grid',
          pruner: 'none',
          trials: 1,
          steps: 3,
          seed: 1,
          base: { model, batchSize: 32 },
        });
        setWasmThreads(2);
        const done = await runStudy(stores, study.id, { backend: 'wasm' });
        const run = await stores.runs.get(done.trials[0]?.runId as string);
        expect(run.status).toBe('completed');
        expect(run.log.map((entry) => entry.message)).toContain(
          "Data parallel on 2 threads: each batch of 32 is split 2 ways, each part's gradients computed by its own copy of the model.",
        );
      } finally {
        folder.cleanup();
      }
    },
    120_000,
  );
});
