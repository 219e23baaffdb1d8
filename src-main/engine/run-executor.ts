import { readFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { join } from 'node:path';
import type { DatasetManifest, ModelSpec, RunRecord } from '../../src-shared/contract';
import type { BackendName } from '../../src-shared/contract/backend';
import { decodeCheckpoint, encodeCheckpoint } from '../../src-shared/engine/checkpoint';
import {
  evalTokenBatches,
  RowSampler,
  rowBatch,
  type Sampler,
  TokenSampler,
  windows,
} from '../../src-shared/engine/data';
import { createGpt } from '../../src-shared/engine/models/gpt';
import { createMlp } from '../../src-shared/engine/models/mlp';
import type { Batch, Model } from '../../src-shared/engine/models/model';
import { defaultTrainerOptions, type Metrics, meanLoss, Trainer } from '../../src-shared/engine/trainer';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import { appVersion } from '../version';
import { useNodeBackend } from './node-backends';

/** Trains one stored run headless (the CLI), writing metrics and checkpoints to the store as it goes. */

export interface ExecuteOptions {
  backend?: BackendName;
  onMetrics?(run: RunRecord, metrics: Metrics): void;
  /** set by the caller to stop the run (Ctrl+C): it is marked interrupted and resumes later */
  control?: { stop?: () => void };
}

const evalBatches = 4;

export function createModel(spec: ModelSpec, seed: number): Model {
  if (spec.family === 'mlp') {
    const { family: _family, ...config } = spec;
    return createMlp(config, seed);
  }
  const { family: _family, ...config } = spec;
  return createGpt(config, seed);
}

async function split(datasets: DatasetStore, manifest: DatasetManifest, name: 'train' | 'val'): Promise<Buffer> {
  return readFile(join(datasets.folderOf(manifest.id), `${name}.bin`));
}

function tokensOf(buffer: Buffer, dtype: 'uint8' | 'uint16'): Uint8Array | Uint16Array {
  const copy = new Uint8Array(buffer);
  return dtype === 'uint8' ? copy : new Uint16Array(copy.buffer, 0, copy.length / 2);
}

async function dataFor(datasets: DatasetStore, manifest: DatasetManifest, run: RunRecord) {
  const { batchSize, seed, model } = run.config;
  if (manifest.kind === 'table') {
    const classification = manifest.task === 'classification';
    const train = new Float32Array(new Uint8Array(await split(datasets, manifest, 'train')).buffer);
    const val = new Float32Array(new Uint8Array(await split(datasets, manifest, 'val')).buffer);
    const width = manifest.features + 1;
    const evalRows = Math.min(val.length / width, 2048);
    const perBatch = Math.ceil(evalRows / evalBatches);
    const evalSets = Array.from({ length: evalBatches }, (_, b) =>
      Array.from({ length: Math.min(perBatch, evalRows - b * perBatch) }, (_, i) => b * perBatch + i),
    ).filter((rows) => rows.length > 0);
    return {
      sampler: new RowSampler(train, manifest.features, batchSize, seed, classification) as Sampler,
      evalBatches: (): Batch[] => evalSets.map((rows) => rowBatch(val, manifest.features, rows, classification)),
    };
  }
  const contextLength = model.family === 'gpt' ? model.contextLength : 64;
  const train = tokensOf(await split(datasets, manifest, 'train'), manifest.dtype);
  const val = tokensOf(await split(datasets, manifest, 'val'), manifest.dtype);
  const starts = evalTokenBatches(val, contextLength, batchSize, evalBatches);
  return {
    sampler: new TokenSampler(train, contextLength, batchSize, seed) as Sampler,
    evalBatches: (): Batch[] => starts.map((s) => windows(val, s, contextLength)),
  };
}

export async function executeRun(
  stores: { runs: RunStore; datasets: DatasetStore },
  runId: string,
  options: ExecuteOptions = {},
): Promise<RunRecord> {
  let run = await stores.runs.get(runId);
  const manifest = await stores.datasets.get(run.config.datasetId);
  const backend = await useNodeBackend(options.backend);
  const model = createModel(run.config.model, run.config.seed);
  const { sampler, evalBatches: batches } = await dataFor(stores.datasets, manifest, run);
  const readLossEvery = 10;
  const checkpointEvery = Math.max(
    readLossEvery,
    Math.round(run.config.plannedSteps / 4 / readLossEvery) * readLossEvery,
  );
  let best = run.result?.bestValLoss ?? null;
  const trainer = new Trainer(
    model,
    sampler,
    {
      ...defaultTrainerOptions,
      batchSize: run.config.batchSize,
      plannedSteps: run.config.plannedSteps,
      peakLearningRate: run.config.peakLearningRate,
      warmupSteps: run.config.warmupSteps,
      adamw: { ...defaultTrainerOptions.adamw, weightDecay: run.config.weightDecay },
      seed: run.config.seed,
      readLossEvery,
      evalSteps: run.config.evalSteps,
      checkpointEvery,
    },
    {
      evaluate: () => meanLoss(model, batches),
      onMetrics: async (metrics) => {
        if (metrics.valLoss !== null && (best === null || metrics.valLoss < best)) best = metrics.valLoss;
        await stores.runs.appendMetrics(run.id, metrics);
        options.onMetrics?.(run, metrics);
      },
      onCheckpoint: async (checkpoint) => {
        const { manifest: saved, weights } = encodeCheckpoint(checkpoint);
        await stores.runs.saveCheckpoint(run.id, saved, weights);
        run = await stores.runs.update(run.id, { lastCheckpointStep: checkpoint.step });
      },
    },
  );
  if (options.control) options.control.stop = () => trainer.requestStop();
  try {
    const saved = run.status === 'interrupted' ? await stores.runs.latestCheckpoint(run.id) : null;
    if (saved) {
      trainer.restore(decodeCheckpoint(saved.manifest, saved.weights));
      await stores.runs.truncateMetrics(run.id, saved.manifest.step);
    } else if (run.status === 'interrupted') {
      await stores.runs.truncateMetrics(run.id, 0);
    }
    run = await stores.runs.update(run.id, {
      status: 'running',
      error: null,
      environment: { backend, adapter: null, platform: `${platform()} (Node ${process.versions.node})`, appVersion },
    });
    const result = await trainer.run();
    const status =
      result.status === 'diverged' ? 'diverged' : result.reason === 'stopped on request' ? 'interrupted' : 'completed';
    return await stores.runs.update(run.id, {
      status,
      result: { ...result, bestValLoss: best },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return await stores.runs.update(run.id, { status: 'failed', error: message });
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
