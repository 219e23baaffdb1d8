import chinchillaCsv from '../../../assets/validation/chinchilla_svg_extracted.csv?raw';
import type { FrontierAnalysis, ParamsCounted, RunObservation } from '../../../src-shared/science/analysis';
import { type DatasetContext, datasetContext } from '../../../src-shared/science/run-observations';
import { parseRunsCsv } from '../../../src-shared/science/runs-csv';
import { engine } from '../../lib/app.svelte';

/** The Frontier view's state: which runs, what the fit made of them, and how it was asked to fit them. */

export const frontier = $state<{
  source: string | null;
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
    await fitRuns(frontier.source, $state.snapshot(frontier.runs), $state.snapshot(frontier.context));
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

/** A sweep's completed runs, sent from the Sweeps view, with what its dataset tells the fit. */
export async function loadRuns(source: string, runs: RunObservation[], context: DatasetContext): Promise<void> {
  await fitRuns(source, runs, context);
}

export const bootstrapSamples = bootstrap;
