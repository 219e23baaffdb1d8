import { readFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { join } from 'node:path';
import type { DatasetManifest, RunRecord } from '../../src-shared/contract';
import type { BackendName } from '../../src-shared/contract/backend';
import { decodeCheckpoint, encodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { activationLogLine } from '../../src-shared/engine/memory';
import { createModel, evaluationHooks, prepareRunData, trainerOptions } from '../../src-shared/engine/run-data';
import { type Metrics, Trainer } from '../../src-shared/engine/trainer';
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

async function readSplit(
  datasets: DatasetStore,
  manifest: DatasetManifest,
  name: 'train' | 'val',
): Promise<ArrayBuffer> {
  const bytes = await readFile(join(datasets.folderOf(manifest.id), `${name}.bin`));
  // A fresh, aligned ArrayBuffer (Node's Buffers may share a pool at odd offsets).
  return new Uint8Array(bytes).buffer;
}

export async function executeRun(
  stores: { runs: RunStore; datasets: DatasetStore },
  runId: string,
  options: ExecuteOptions = {},
): Promise<RunRecord> {
  let run = await stores.runs.get(runId);
  const manifest = await stores.datasets.get(run.config.datasetId);
  const backend = await useNodeBackend(options.backend);
  const model = createModel(run.config.model, run.config.seed, run.config.batchSize);
  const { sampler, evalBatches: batches } = await prepareRunData(manifest, run, (name) =>
    readSplit(stores.datasets, manifest, name),
  );
  let best = run.result?.bestValLoss ?? null;
  const trainer = new Trainer(model, sampler, trainerOptions(run), {
    ...evaluationHooks(model, batches),
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
  });
  if (options.control) options.control.stop = () => trainer.requestStop();
  try {
    const saved = run.status === 'interrupted' ? await stores.runs.latestCheckpoint(run.id) : null;
    let note: string | null = null;
    if (saved) {
      trainer.restore(decodeCheckpoint(saved.manifest, saved.weights));
      await stores.runs.truncateMetrics(run.id, saved.manifest.step);
      note = `Resumed on ${backend} from its checkpoint at step ${saved.manifest.step}.`;
    } else if (run.status === 'interrupted') {
      await stores.runs.truncateMetrics(run.id, 0);
      note = `Started again on ${backend} from step 0: it had no checkpoint.`;
    }
    const at = new Date().toISOString();
    run = await stores.runs.update(run.id, {
      status: 'running',
      error: null,
      environment: { backend, adapter: null, platform: `${platform()} (Node ${process.versions.node})`, appVersion },
      log: [
        ...run.log,
        ...[note, activationLogLine(run)].filter((n) => n !== null).map((message) => ({ at, message })),
      ],
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

/**
 * Trains a run this process may take: it holds the run's lock while it trains (null: another live
 * process is training it), and a run found `running` with its lock free, whose process died, is marked
 * interrupted first so it resumes from its checkpoint with its metrics cut back there.
 */
export async function executeClaimedRun(
  stores: { runs: RunStore; datasets: DatasetStore },
  runId: string,
  options: ExecuteOptions & { onClaimed?(run: RunRecord): void } = {},
): Promise<RunRecord | null> {
  const release = await stores.runs.tryLock(runId);
  if (!release) return null;
  try {
    const current = await stores.runs.get(runId);
    if (current.status === 'completed' || current.status === 'diverged' || current.status === 'failed') return current;
    options.onClaimed?.(current);
    if (current.status === 'running') await stores.runs.update(runId, { status: 'interrupted' });
    return await executeRun(stores, runId, options);
  } finally {
    await release();
  }
}
