import { readFile } from 'node:fs/promises';
import { platform } from 'node:os';
import { join } from 'node:path';
import type { DatasetManifest, MetricRow, RunRecord } from '../../src-shared/contract';
import { decodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { RunSession } from '../../src-shared/engine/session/run-session';
import { isFinal, type RunEnd } from '../../src-shared/engine/session/run-status';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import { storeRunSink } from '../usecases/runs';
import { type NodeBackendPreference, nodeBackendPolicy } from './node-backends';

/**
 * The CLI's host for a run session (src-shared/engine/session): the store as its sink, the split files
 * read from disk, Node's backends. The session does the rest, as it does in the app's worker.
 */

export interface ExecuteOptions {
  backend?: NodeBackendPreference | undefined;
  onMetrics?(run: RunRecord, metrics: MetricRow): void;
  /** after each evaluation: true stops the run as cancelled (a study's pruner) */
  prune?(metrics: MetricRow): Promise<boolean>;
  /** fault injection (tests): destroy the WebGPU device once training passes this step */
  loseWebGpuDeviceAtStep?: number;
  /** set by the caller to pause the run (Ctrl+C): it is marked interrupted and resumes later */
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

/** Trains one stored run to its end; the store has its metrics, checkpoints and end as it goes. */
export async function executeRun(
  stores: { runs: RunStore; datasets: DatasetStore },
  runId: string,
  options: ExecuteOptions = {},
): Promise<RunRecord> {
  await trainStoredRun(stores, runId, options);
  return stores.runs.get(runId);
}

async function trainStoredRun(
  stores: { runs: RunStore; datasets: DatasetStore },
  runId: string,
  options: ExecuteOptions,
): Promise<RunEnd> {
  const run = await stores.runs.get(runId);
  const dataset = await stores.datasets.get(run.config.datasetId);
  const session = new RunSession({
    run,
    dataset,
    read: (name) => readSplit(stores.datasets, dataset, name),
    latestCheckpoint: async () => {
      const saved = await stores.runs.latestCheckpoint(run.id);
      return saved ? decodeCheckpoint(saved.manifest, saved.weights) : null;
    },
    sink: storeRunSink(stores.runs, run.id, `${platform()} (Node ${process.versions.node})`),
    backends: nodeBackendPolicy(options.backend),
    ...(options.prune ? { prune: options.prune } : {}),
    onMetrics: (metrics) => options.onMetrics?.(run, metrics),
    loseDeviceAtStep: options.loseWebGpuDeviceAtStep ?? null,
  });
  if (options.control) options.control.stop = () => session.pause();
  return session.run();
}

/**
 * Trains a run this process may take: it holds the run's lock while it trains (null: another live
 * process is training it), and a run found `running` with its lock free, whose process died, is marked
 * interrupted first so it resumes from its checkpoint with its metrics cut back there.
 */
export async function executeClaimedRun(
  stores: { runs: RunStore; datasets: DatasetStore },
  runId: string,
  options: ExecuteOptions & {
    onClaimed?(run: RunRecord): void;
    /** this process holds the run's lock already (nextTrial's claim): train, and let it go at the end */
    claimed?: boolean;
  } = {},
): Promise<RunRecord | null> {
  const release = options.claimed ? () => stores.runs.unlock(runId) : await stores.runs.tryLock(runId);
  if (!release) return null;
  try {
    const current = await stores.runs.get(runId);
    if (isFinal(current.status)) return current;
    options.onClaimed?.(current);
    if (current.status === 'running') await stores.runs.update(runId, { status: 'interrupted' });
    return await executeRun(stores, runId, options);
  } finally {
    await release();
  }
}
