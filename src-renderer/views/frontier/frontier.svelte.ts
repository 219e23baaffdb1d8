import chinchillaCsv from '../../../assets/validation/chinchilla_svg_extracted.csv?raw';
import { formatCount, formatFlops, formatRatio } from '../../../src-shared/format';
import type { FrontierAnalysis, ParamsCounted, RunObservation } from '../../../src-shared/science/analysis';
import { type DatasetContext, datasetContext, observeRuns } from '../../../src-shared/science/run-observations';
import { parseRunsCsv } from '../../../src-shared/science/runs-csv';
import { client, engine } from '../../lib/app.svelte';

/** The Frontier view's state: which runs, what the fit made of them, and how it was asked to fit them. */

export const frontier = $state<{
  source: string | null;
  /** the sweep fitted, when the runs are a sweep's (the picker shows it) */
  sweepId: string | null;
  runs: RunObservation[];
  /** the runs' dataset: its known floor (shown beside E) and unique tokens (repetition) */
  context: DatasetContext;
  /** N as total parameters (Chinchilla) or non-embedding (Kaplan et al.) */
  params: ParamsCounted;
  /** fit without the largest budget and predict it */
  holdoutLargest: boolean;
  analysis: FrontierAnalysis | null;
  fitting: boolean;
  error: string | null;
}>({
  source: null,
  sweepId: null,
  runs: [],
  context: datasetContext(null),
  params: 'total',
  holdoutLargest: false,
  analysis: null,
  fitting: false,
  error: null,
});

const bootstrap = 200;

async function fitRuns(
  source: string,
  runs: RunObservation[],
  context: DatasetContext = datasetContext(null),
  sweepId: string | null = null,
): Promise<void> {
  frontier.fitting = true;
  frontier.error = null;
  // Runs without a non-embedding count can only be fitted with total parameters.
  const params = runs.every((run) => run.nNonEmbedding !== undefined) ? frontier.params : 'total';
  try {
    frontier.analysis = await engine.fit(runs, {
      bootstrap,
      seed: 1,
      budgets: [],
      params,
      holdoutLargest: frontier.holdoutLargest,
      floor: context.floor,
      uniqueTokens: context.uniqueTokens,
    });
    frontier.source = source;
    frontier.sweepId = sweepId;
    frontier.runs = runs;
    frontier.context = context;
    frontier.params = params;
  } catch (error) {
    frontier.error = error instanceof Error ? error.message : String(error);
  } finally {
    frontier.fitting = false;
  }
}

/** Fits the same runs again after the N count or the backtest switch changed. */
export async function refit(): Promise<void> {
  // Snapshots: the worker cannot be sent the state's proxies.
  if (frontier.source)
    await fitRuns(frontier.source, $state.snapshot(frontier.runs), $state.snapshot(frontier.context), frontier.sweepId);
}

export async function loadCsv(file: File): Promise<void> {
  let runs: RunObservation[];
  try {
    runs = parseRunsCsv(await file.text(), file.name);
  } catch (error) {
    frontier.error = error instanceof Error ? error.message : String(error);
    return;
  }
  await fitRuns(`${file.name} (${runs.length} runs)`, runs);
}

/** Chinchilla's runs as Epoch AI extracted them, less the five highest losses, as Besiroglu et al. fitted them. */
export async function loadChinchilla(): Promise<void> {
  const runs = parseRunsCsv(chinchillaCsv, 'chinchilla_svg_extracted.csv')
    .sort((a, b) => a.loss - b.loss)
    .slice(0, -5);
  await fitRuns(`Hoffmann et al. (2022), Epoch AI's extraction (${runs.length} runs)`, runs);
}

/** A fit needs at least this many completed runs. */
export const minimumRuns = 5;

/** Fits a sweep's completed runs, with what its dataset tells the fit (its floor, its unique tokens). */
type SweepDetail = Awaited<ReturnType<typeof client.call<'sweeps.get'>>>;

const completedRuns = (detail: SweepDetail) =>
  detail.runs.filter((run) => run.status === 'completed' && run.result?.valLoss != null);

export async function fitSweep(sweepId: string, fetched?: SweepDetail): Promise<void> {
  // Fitting from the first moment: the Frontier, opening meanwhile, then fits nothing else.
  frontier.fitting = true;
  let detail: SweepDetail;
  try {
    detail = fetched ?? (await client.call('sweeps.get', { id: sweepId }));
  } catch (error) {
    frontier.error = error instanceof Error ? error.message : String(error);
    frontier.fitting = false;
    return;
  }
  const completed = completedRuns(detail);
  if (completed.length < minimumRuns) {
    frontier.error = `${detail.sweep.name} has ${completed.length} completed run${completed.length === 1 ? '' : 's'}; a fit needs at least ${minimumRuns}. Train the rest on the Sweeps view first.`;
    frontier.fitting = false;
    return;
  }
  const runs = observeRuns(completed);
  const context = await sweepContext(detail);
  frontier.fitting = false;
  await fitRuns(`sweep ${detail.sweep.name} (${runs.length} completed runs)`, runs, context, sweepId);
}

/** What a sweep's dataset tells its fit; a deleted dataset leaves the sweep fittable, only the floor beside E is lost. */
async function sweepContext(detail: SweepDetail): Promise<DatasetContext> {
  return datasetContext(await client.call('datasets.get', { id: detail.sweep.datasetId }).catch(() => null));
}

/**
 * On opening the Frontier with nothing fitted (a fresh start, a reload): the newest sweep with enough
 * completed runs is fitted, so a sweep's law is there without going back to Sweeps. Null if none has.
 */
export async function fitLatestSweep(sweeps: Array<{ id: string }>): Promise<string | null> {
  for (const sweep of sweeps.slice(0, 20)) {
    const detail = await client.call('sweeps.get', { id: sweep.id }).catch(() => null);
    if (!detail || completedRuns(detail).length < minimumRuns) continue;
    await fitSweep(sweep.id, detail);
    return sweep.id;
  }
  return null;
}

export const bootstrapSamples = bootstrap;

/**
 * The one-line result a finished sweep's notice gives: the fitted optimum at the sweep's largest budget, a
 * point estimate (no bootstrap, so it takes a moment; the Frontier has the intervals). Null when the sweep
 * has too few completed runs or the fit fails.
 */
export async function sweepHeadline(sweepId: string): Promise<string | null> {
  try {
    const detail = await client.call('sweeps.get', { id: sweepId });
    const completed = completedRuns(detail);
    if (completed.length < minimumRuns) return null;
    const context = await sweepContext(detail);
    const budget = Math.max(...detail.sweep.budgets);
    const analysis = await engine.fit(observeRuns(completed), {
      bootstrap: 0,
      seed: 1,
      budgets: [budget],
      params: 'total',
      holdoutLargest: false,
      floor: context.floor,
      uniqueTokens: context.uniqueTokens,
    });
    const best = analysis.allocation[0];
    if (!best || !(best.params > 0)) return null;
    return `optimum ≈ ${formatCount(best.params)} parameters and ${formatCount(best.tokens)} ${context.items} at ${formatFlops(budget)} FLOPs (${formatRatio(best.tokensPerParam)} per parameter)`;
  } catch {
    return null;
  }
}
