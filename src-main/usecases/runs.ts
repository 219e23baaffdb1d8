import { IsoflopError, type RunRecord } from '../../src-shared/contract';
import type { BackendName } from '../../src-shared/contract/backend';
import { type CheckpointManifest, decodeCheckpoint } from '../../src-shared/engine/checkpoint';
import type { RunSink } from '../../src-shared/engine/session/run-session';
import type { RunEnd } from '../../src-shared/engine/session/run-status';
import type { RunStore } from '../store/runs';
import { appVersion } from '../version';

/**
 * What a run session's sink does to the store, once: the API's runs.start / runs.saveCheckpoint /
 * runs.finish handlers (the app's worker) and the CLI's sink (`storeRunSink`) both call these.
 */

export interface RunStart {
  backend: BackendName;
  adapter: string | null;
  platform: string;
  fromStep: number;
  notes: string[];
}

/**
 * The run becomes running: this process claims its lock (another live process holding it is a CONFLICT),
 * metrics past `fromStep` go, from step 0 its checkpoints too, and the start is recorded.
 */
export async function startRun(runs: RunStore, id: string, start: RunStart): Promise<RunRecord> {
  await runs.get(id);
  if ((await runs.lockHolder(id)) !== 'this process' && !(await runs.tryLock(id))) {
    throw new IsoflopError(
      'CONFLICT',
      `Run ${id} is being trained by another process (an isoflop sweep, say). Wait for it, or stop it first.`,
    );
  }
  await runs.truncateMetrics(id, start.fromStep);
  if (start.fromStep === 0) await runs.clearCheckpoints(id);
  const { log } = await runs.get(id);
  const at = new Date().toISOString();
  return runs.update(id, {
    status: 'running',
    error: null,
    result: null,
    environment: { backend: start.backend, adapter: start.adapter, platform: start.platform, appVersion },
    log: [...log, ...start.notes.map((message) => ({ at, message }))],
  });
}

/** Stores a checkpoint after checking that its weights match its manifest. */
export async function saveRunCheckpoint(
  runs: RunStore,
  id: string,
  manifest: CheckpointManifest,
  weights: Uint8Array,
): Promise<void> {
  await runs.get(id);
  try {
    decodeCheckpoint(manifest, weights);
  } catch (error) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `The checkpoint of run ${id} at step ${manifest.step} is inconsistent: ${(error as Error).message}.`,
    );
  }
  await runs.saveCheckpoint(id, manifest, weights);
  await runs.update(id, { lastCheckpointStep: manifest.step });
}

/** Records how the run ended and lets its lock go. */
export async function finishRun(runs: RunStore, id: string, end: RunEnd): Promise<RunRecord> {
  const run = await runs.update(id, { status: end.status, result: end.result, error: end.error });
  if ((await runs.lockHolder(id)) === 'this process') await runs.unlock(id);
  return run;
}

/** A run session's sink straight onto the store, for a host in this process (the CLI). */
export function storeRunSink(runs: RunStore, id: string, platform: string): RunSink {
  return {
    start: async (start) => {
      await startRun(runs, id, { ...start, platform });
    },
    appendMetrics: (row) => runs.appendMetrics(id, row),
    saveCheckpoint: (manifest, weights) => saveRunCheckpoint(runs, id, manifest, weights),
    finish: async (end) => {
      await finishRun(runs, id, end);
    },
  };
}
