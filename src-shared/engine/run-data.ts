import type { DatasetManifest, ModelSpec, RunRecord } from '../contract';
import { assignFolds, foldRows } from '../data/folds';
import { evalTokenBatches, RowSampler, rowBatch, type Sampler, TokenSampler, windows } from './data';
import { meanAccuracy, meanLoss } from './evaluate';
import { familyOf } from './models/families';
import type { Batch, Model } from './models/model';
import { defaultTrainerOptions, type TrainerHooks, type TrainerOptions } from './trainer';

/**
 * What a run trains on and how it is evaluated, from its dataset's split files. The host says how to
 * read a split: the file system in Node, `fetch` of the data URL in the app's worker.
 */

export type ReadSplit = (split: 'train' | 'val') => Promise<ArrayBuffer>;

export const evalBatchCount = 4;

/** The run's model, its GPT recomputing activations when `activationPlan` says so for `batchSize`. */
export function createModel(spec: ModelSpec, seed: number, batchSize?: number): Model {
  return familyOf(spec).create(spec, seed, batchSize);
}

export async function prepareRunData(
  manifest: DatasetManifest,
  run: RunRecord,
  read: ReadSplit,
): Promise<{ sampler: Sampler; evalBatches: () => Batch[] }> {
  const { batchSize, seed, model } = run.config;
  if (manifest.kind === 'table') {
    const classification = manifest.task === 'classification';
    const width = manifest.features + 1;
    let train: Float32Array = new Float32Array(await read('train'));
    let val: Float32Array = new Float32Array(await read('val'));
    const { fold } = run.config;
    if (fold) {
      // Cross-validation: the fold's rows validate, the other folds' train.
      const pool = new Float32Array(train.length + val.length);
      pool.set(train);
      pool.set(val, train.length);
      const rows = pool.length / width;
      const labels = classification
        ? Array.from({ length: rows }, (_, r) => pool[r * width + width - 1] as number)
        : null;
      ({ train, val } = foldRows(pool, width, assignFolds(rows, fold.k, fold.seed, labels), fold.index));
    }
    const evalRows = Math.min(val.length / width, 2048);
    const perBatch = Math.ceil(evalRows / evalBatchCount);
    const evalSets = Array.from({ length: evalBatchCount }, (_, b) =>
      Array.from({ length: Math.max(0, Math.min(perBatch, evalRows - b * perBatch)) }, (_, i) => b * perBatch + i),
    ).filter((rows) => rows.length > 0);
    return {
      sampler: new RowSampler(train, manifest.features, batchSize, seed, classification),
      evalBatches: () => evalSets.map((rows) => rowBatch(val, manifest.features, rows, classification)),
    };
  }
  const contextLength = model.family === 'gpt' ? model.contextLength : 64;
  const asTokens = (buffer: ArrayBuffer) =>
    manifest.dtype === 'uint8' ? new Uint8Array(buffer) : new Uint16Array(buffer);
  const train = asTokens(await read('train'));
  const val = asTokens(await read('val'));
  const starts = evalTokenBatches(val, contextLength, batchSize, evalBatchCount);
  return {
    sampler: new TokenSampler(train, contextLength, batchSize, seed),
    evalBatches: () => starts.map((s) => windows(val, s, contextLength)),
  };
}

/** Trainer options for a stored run: the defaults, with the run's config over them. */
export function trainerOptions(run: RunRecord): TrainerOptions {
  const readLossEvery = 10;
  return {
    ...defaultTrainerOptions,
    adamw: { ...defaultTrainerOptions.adamw, weightDecay: run.config.weightDecay },
    batchSize: run.config.batchSize,
    plannedSteps: run.config.plannedSteps,
    peakLearningRate: run.config.peakLearningRate,
    warmupSteps: run.config.warmupSteps,
    seed: run.config.seed,
    readLossEvery,
    evalSteps: run.config.evalSteps,
    l1: run.config.l1,
    l2: run.config.l2,
    earlyStopping: run.config.earlyStopping,
    checkpointEvery: Math.max(readLossEvery, Math.round(run.config.plannedSteps / 4 / readLossEvery) * readLossEvery),
  };
}

/** The trainer's evaluation hooks for a run: validation loss, and accuracy where the model classifies. */
export function evaluationHooks(
  model: Model,
  batches: () => Iterable<Batch>,
): Pick<TrainerHooks, 'evaluate' | 'evaluateAccuracy'> {
  return { evaluate: () => meanLoss(model, batches), evaluateAccuracy: () => meanAccuracy(model, batches) };
}
