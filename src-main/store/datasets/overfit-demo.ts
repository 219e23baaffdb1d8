import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord, TableManifest } from '../../../src-shared/contract';
import { mlpFlops, mlpParamCount } from '../../../src-shared/engine/models/mlp';
import { queuedRun, type RunStore } from '../runs';
import { demoTeacherId } from './demo-teacher';
import type { DatasetStore } from './store';

/**
 * The over-fitting demo: a model far too large for 256 rows of the teacher demo, trained long enough to
 * memorise them, with early stopping watching; a new user sees detection and early stopping in a minute.
 */

export const overfitSliceId = 'demo-teacher-256';
const trainRows = 256;
const evalRows = 2048;

async function ensureSlice(datasets: DatasetStore): Promise<TableManifest> {
  if (await datasets.exists(overfitSliceId)) return (await datasets.get(overfitSliceId)) as TableManifest;
  const source = (await datasets.get(demoTeacherId)) as TableManifest;
  const width = (source.features + 1) * 4;
  const folder = datasets.folderOf(demoTeacherId);
  const manifest = await datasets.create(overfitSliceId, async (dir) => {
    const rows = {
      train: trainRows,
      val: Math.min(evalRows, source.splits.val.rows),
      test: Math.min(evalRows, source.splits.test.rows),
    };
    for (const split of ['train', 'val', 'test'] as const) {
      const bytes = await readFile(join(folder, `${split}.bin`));
      await writeFile(join(dir, `${split}.bin`), bytes.subarray(0, rows[split] * width));
    }
    return {
      ...source,
      id: overfitSliceId,
      name: 'Teacher demo, 256 rows',
      createdAt: new Date().toISOString(),
      description: `${trainRows} training rows of the teacher demo: few enough for a large network to memorise, so over-fitting shows.`,
      splits: {
        train: { file: 'train.bin', rows: rows.train },
        val: { file: 'val.bin', rows: rows.val },
        test: { file: 'test.bin', rows: rows.test },
      },
      stats: { ...source.stats, rows: rows.train + rows.val + rows.test },
    };
  });
  return manifest as TableManifest;
}

export async function createOverfitDemoRun(stores: { datasets: DatasetStore; runs: RunStore }): Promise<RunRecord> {
  const dataset = await ensureSlice(stores.datasets);
  const model = {
    family: 'mlp' as const,
    inputs: dataset.features,
    width: 256,
    depth: 3,
    activation: 'tanh' as const,
    dropout: 0,
    task: 'regression' as const,
    outputs: 1,
  };
  const steps = 4000;
  const batchSize = 32;
  const flops = mlpFlops(model);
  const name = `Over-fitting demo: ${Math.round(mlpParamCount(model).total / 1000)}k parameters on ${trainRows} rows`;
  return stores.runs.create(
    queuedRun(stores.runs.newId('overfit-demo'), name, null, {
      datasetId: dataset.id,
      model,
      batchSize,
      budgetFlops: flops.perToken * batchSize * steps,
      plannedTokens: batchSize * steps,
      plannedSteps: steps,
      peakLearningRate: 3e-3,
      warmupSteps: 50,
      weightDecay: 0,
      l1: 0,
      l2: 0,
      earlyStopping: { patience: 8, minDelta: 0, restoreBest: true },
      seed: 7,
      evalSteps: Array.from({ length: steps / 50 }, (_, i) => (i + 1) * 50),
    }),
  );
}
