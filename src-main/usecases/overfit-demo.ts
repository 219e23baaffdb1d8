import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord, TableManifest } from '../../src-shared/contract';
import { mlpFlops, mlpParamCount } from '../../src-shared/engine/models/mlp';
import { demoTeacherId } from '../store/datasets/demos/demo-teacher';
import type { DatasetStore } from '../store/datasets/store';
import { queuedRun, type RunStore } from '../store/runs';

/**
 * The over-fitting demo: a model far too large for 256 rows of the teacher demo, trained long enough to
 * memorise them, with early stopping watching; a new user sees detection and early stopping in a minute.
 */

export const overfitSliceId = 'demo-teacher-256';
const trainRows = 256;
const evalRows = 2048;

/** Callers at once (six clicks, two windows) share one creation; another process's is taken as is. */
const slicing = new Map<string, Promise<TableManifest>>();

function ensureSlice(datasets: DatasetStore): Promise<TableManifest> {
  let pending = slicing.get(datasets.root);
  if (!pending) {
    pending = makeSlice(datasets).finally(() => slicing.delete(datasets.root));
    slicing.set(datasets.root, pending);
  }
  return pending;
}

async function makeSlice(datasets: DatasetStore): Promise<TableManifest> {
  if (await datasets.exists(overfitSliceId)) return (await datasets.get(overfitSliceId)) as TableManifest;
  const source = (await datasets.get(demoTeacherId)) as TableManifest;
  const width = (source.features + 1) * 4;
  const folder = datasets.folderOf(demoTeacherId);
  // Another process may make it between our check and our rename: theirs is the same slice.
  const manifest = await datasets.create(
    overfitSliceId,
    async (dir) => {
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
        name: `Teacher demo, ${trainRows} training rows`,
        createdAt: new Date().toISOString(),
        description:
          `${trainRows} training rows of the teacher demo: few enough for a large network to memorise, so over-fitting shows. ` +
          'The over-fitting demo and the regularization comparison made it, and make it again if it is deleted.',
        splits: {
          train: { file: 'train.bin', rows: rows.train },
          val: { file: 'val.bin', rows: rows.val },
          test: { file: 'test.bin', rows: rows.test },
        },
        stats: { ...source.stats, rows: rows.train + rows.val + rows.test },
      };
    },
    { ifAbsent: true },
  );
  return manifest as TableManifest;
}

/** A network far too large for the slice, with the regularization given; `steps` of batch 32. */
async function largeNetworkRun(
  stores: { datasets: DatasetStore; runs: RunStore },
  options: {
    idPrefix: string;
    name: (thousandParams: number) => string;
    steps: number;
    dropout: number;
    weightDecay: number;
    l2: number;
    earlyStopping: RunRecord['config']['earlyStopping'];
  },
): Promise<RunRecord> {
  const dataset = await ensureSlice(stores.datasets);
  const model = {
    family: 'mlp' as const,
    inputs: dataset.features,
    width: 256,
    depth: 3,
    activation: 'tanh' as const,
    dropout: options.dropout,
    task: 'regression' as const,
    outputs: 1,
  };
  const { steps } = options;
  const batchSize = 32;
  const flops = mlpFlops(model);
  return stores.runs.create(
    queuedRun(stores.runs.newId(options.idPrefix), options.name(Math.round(mlpParamCount(model).total / 1000)), null, {
      datasetId: dataset.id,
      model,
      batchSize,
      budgetFlops: flops.perToken * batchSize * steps,
      plannedTokens: batchSize * steps,
      plannedSteps: steps,
      peakLearningRate: 3e-3,
      warmupSteps: 50,
      weightDecay: options.weightDecay,
      l1: 0,
      l2: options.l2,
      earlyStopping: options.earlyStopping,
      seed: 7,
      evalSteps: Array.from({ length: steps / 50 }, (_, i) => (i + 1) * 50),
    }),
  );
}

export function createOverfitDemoRun(stores: { datasets: DatasetStore; runs: RunStore }): Promise<RunRecord> {
  return largeNetworkRun(stores, {
    idPrefix: 'overfit-demo',
    name: (k) => `Over-fitting demo: ${k}k parameters on ${trainRows} rows`,
    steps: 4000,
    dropout: 0,
    weightDecay: 0,
    l2: 0,
    earlyStopping: { patience: 8, minDelta: 0, restoreBest: true, metric: 'valLoss' },
  });
}

/** The settings the regularization comparison turns on, all at once. */
export const comparisonRegularization = { dropout: 0.2, weightDecay: 0.1, l2: 1e-4 };

/**
 * The regularization comparison: the same large network on the same 256 rows, trained the same number of
 * steps without and with regularization (dropout, decoupled weight decay, an L2 penalty), no early stopping,
 * so the two validation curves show what regularization does to over-fitting.
 */
export async function createRegularizationComparison(stores: {
  datasets: DatasetStore;
  runs: RunStore;
}): Promise<RunRecord[]> {
  const common = { steps: 600, earlyStopping: null };
  const { dropout, weightDecay, l2 } = comparisonRegularization;
  return [
    await largeNetworkRun(stores, {
      ...common,
      idPrefix: 'regularization-none',
      name: (k) => `Regularization comparison: ${k}k parameters, none`,
      dropout: 0,
      weightDecay: 0,
      l2: 0,
    }),
    await largeNetworkRun(stores, {
      ...common,
      idPrefix: 'regularization-on',
      name: (k) =>
        `Regularization comparison: ${k}k parameters, dropout ${dropout}, weight decay ${weightDecay}, L2 ${l2}`,
      dropout,
      weightDecay,
      l2,
    }),
  ];
}
