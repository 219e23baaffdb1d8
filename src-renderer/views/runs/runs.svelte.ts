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
}>({
  runs: [],
  damaged: [],
  sweeps: [],
  loaded: false,
  error: null,
  selectedRunId: null,
  selectedMetrics: [],
  sweepFilter: 'all',
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

export async function selectRun(id: string): Promise<void> {
  const { metrics } = await client.call('runs.get', { id });
  runsState.selectedRunId = id;
  runsState.selectedMetrics = metrics;
}
