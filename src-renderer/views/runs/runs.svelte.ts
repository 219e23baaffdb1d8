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

/** What the view showed (the selected run, the ticked runs) outlives a reload: the comparison reopens. */
const viewKey = 'isoflop.runs.view';

function rememberView(): void {
  try {
    localStorage.setItem(viewKey, JSON.stringify({ selected: runsState.selectedRunId, compared: runsState.compared }));
  } catch {
    // Storage refused (a private window): the view lasts until the window closes.
  }
}

function recalledView(): { selected: string | null; compared: string[] } {
  try {
    const value = JSON.parse(localStorage.getItem(viewKey) ?? 'null') as {
      selected?: unknown;
      compared?: unknown;
    } | null;
    return {
      selected: typeof value?.selected === 'string' ? value.selected : null,
      compared: Array.isArray(value?.compared)
        ? value.compared.filter((id): id is string => typeof id === 'string')
        : [],
    };
  } catch {
    return { selected: null, compared: [] };
  }
}

/** The runs ticked to overlay, remembered. */
export function setCompared(ids: string[]): void {
  runsState.compared = ids;
  rememberView();
}

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
    if (!runsState.loaded) {
      // First load in this window: reopen what was shown before, where those runs still exist.
      const exists = (id: string | null) => id !== null && runs.some((run) => run.id === id);
      const recalled = recalledView();
      runsState.compared = recalled.compared.filter(exists);
      if (!runsState.selectedRunId && exists(recalled.selected)) runsState.selectedRunId = recalled.selected;
    }
    if (runsState.selectedRunId && !runs.some((run) => run.id === runsState.selectedRunId))
      runsState.selectedRunId = null;
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
  rememberView();
}
