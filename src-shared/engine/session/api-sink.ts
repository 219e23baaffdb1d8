import type { Channel, Input, Output } from '../../contract/api';
import type { RunSink } from './run-session';

/** One API call, as the app's client makes it (and, from the training worker, relays it). */
export type ApiCall = <C extends Channel>(channel: C, input: Input<C>) => Promise<Output<C>>;

/** A run session's sink over the API: runs.start, runs.appendMetrics, runs.saveCheckpoint, runs.finish. */
export function apiRunSink(call: ApiCall, id: string, platform: string): RunSink {
  return {
    start: async ({ backend, adapter, fromStep, notes }) => {
      await call('runs.start', { id, backend, adapter, platform, fromStep, notes });
    },
    appendMetrics: async (row) => {
      await call('runs.appendMetrics', { id, rows: [row] });
    },
    saveCheckpoint: async (manifest, weights) => {
      await call('runs.saveCheckpoint', { id, manifest, weights: { bytes: weights } });
    },
    finish: async ({ status, result, error }) => {
      await call('runs.finish', { id, status, result, error });
    },
  };
}
