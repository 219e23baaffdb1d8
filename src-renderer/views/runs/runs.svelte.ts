import type { MetricRow, RunRecord, SweepRecord } from '../../../src-shared/contract';
import { client } from '../../lib/app.svelte';

/** Runs and sweeps as the store holds them; refreshed while anything is running (a CLI sweep, say). */

export const runsState = $state<{
  runs: RunRecord[];
  damaged: Array<{ id: string; error: string }>;
  sweeps: SweepRecord[];
  loaded: boolean;
  error: string | null;
  selectedRunId: string | null;
  selectedMetrics: MetricRow[];
  sweepFilter: string;
  /** runs ticked to overlay their curves */
  compared: string[];
}>({
  runs: [],
  damaged: [],
  sweeps: [],
  loaded: false,
  error: null,
  selectedRunId: null,
  selectedMetrics: [],
  sweepFilter: 'all',
  compared: [],
});

let timer: number | null = null;

export async function refreshRuns(): Promise<void> {
  if (timer !== null) window.clearTimeout(timer);
  try {
    const [{ runs, damaged }, sweeps] = await Promise.all([
      client.call('runs.list', {}),
      client.call('sweeps.list', {}),
    ]);
    runsState.runs = runs;
    runsState.damaged = damaged;
    runsState.sweeps = sweeps;
    runsState.error = null;
    if (runsState.selectedRunId) await selectRun(runsState.selectedRunId);
  } catch (error) {
    runsState.error = error instanceof Error ? error.message : String(error);
  }
  runsState.loaded = true;
  if (runsState.runs.some((run) => run.status === 'running')) timer = window.setTimeout(() => void refreshRuns(), 2000);
}

export function stopRefreshing(): void {
  if (timer !== null) window.clearTimeout(timer);
  timer = null;
}

/** Metrics of the runs ticked for comparison, fetched again when a run changes. */
const compareCache = new Map<string, { updatedAt: string; metrics: MetricRow[] }>();

export async function compareMetrics(runs: RunRecord[]): Promise<Map<string, MetricRow[]>> {
  const out = new Map<string, MetricRow[]>();
  for (const run of runs) {
    let cached = compareCache.get(run.id);
    if (!cached || cached.updatedAt !== run.updatedAt || run.status === 'running') {
      const { metrics } = await client.call('runs.get', { id: run.id });
      cached = { updatedAt: run.updatedAt, metrics };
      compareCache.set(run.id, cached);
    }
    out.set(run.id, cached.metrics);
  }
  return out;
}

export async function selectRun(id: string): Promise<void> {
  const { metrics } = await client.call('runs.get', { id });
  runsState.selectedRunId = id;
  runsState.selectedMetrics = metrics;
}
