import chinchillaCsv from '../../../assets/validation/chinchilla_svg_extracted.csv?raw';
import type { FrontierAnalysis } from '../../../src-shared/science/analysis';
import type { Observation } from '../../../src-shared/science/parametric';
import { parseRunsCsv } from '../../../src-shared/science/runs-csv';
import { engine } from '../../lib/app.svelte';

/** The Frontier view's state: which runs, and what the fit made of them. */

export const frontier = $state<{
  source: string | null;
  runs: Observation[];
  /** the lowest loss the runs' data allows, where it is known (the teacher demo); shown beside E */
  knownFloor: number | null;
  analysis: FrontierAnalysis | null;
  fitting: boolean;
  error: string | null;
}>({ source: null, runs: [], knownFloor: null, analysis: null, fitting: false, error: null });

const bootstrap = 200;

async function fitRuns(source: string, runs: Observation[], knownFloor: number | null = null): Promise<void> {
  frontier.fitting = true;
  frontier.error = null;
  try {
    frontier.analysis = await engine.fit(runs, { bootstrap, seed: 1, budgets: [] });
    frontier.source = source;
    frontier.runs = runs;
    frontier.knownFloor = knownFloor;
  } catch (error) {
    frontier.error = error instanceof Error ? error.message : String(error);
  } finally {
    frontier.fitting = false;
  }
}

export async function loadCsv(file: File): Promise<void> {
  let runs: Observation[];
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

/** A sweep's completed runs, sent from the Sweeps view, with its data's noise floor where that is known. */
export async function loadRuns(source: string, runs: Observation[], knownFloor: number | null): Promise<void> {
  await fitRuns(source, runs, knownFloor);
}

export const bootstrapSamples = bootstrap;
