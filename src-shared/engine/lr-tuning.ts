import type { ModelSpec, PlannedRun, StudyRecord, StudyRequest } from '../contract';
import { formatCount } from '../format';
import { familyOf, modelFamilies } from './models/families';

/**
 * Learning rates tuned per model size before a sweep (Porian et al. 2024: with one rate for every size a
 * small-scale sweep finds Kaplan-like exponents; tuned per size, Chinchilla's). Each size gets a short grid
 * search at the smallest budget, a study of its own; the sweep then trains each size at its best rate. The
 * CLI (`isoflop sweep --tune-lr`) and the app's planner share these steps.
 */

/** The rate a size trains at when nothing was tuned. */
export function defaultLearningRate(family: ModelSpec['family']): number {
  return modelFamilies[family].defaultLearningRate;
}

/** Neighbouring rates of the grid differ by this factor. */
export const learningRateStep = 2.5;

/** `points` rates spaced evenly in log around `centre`: 5 points span centre / 6.25 to centre x 6.25. */
export function learningRateGrid(centre: number, points: number): number[] {
  const middle = (points - 1) / 2;
  return Array.from({ length: points }, (_, k) => Number((centre * learningRateStep ** (k - middle)).toPrecision(3)));
}

export interface LearningRateTask {
  params: number;
  model: ModelSpec;
  /** steps of each trial: what the sweep's smallest budget buys this size, at least 50 (and at most its own run) */
  steps: number;
  rates: number[];
}

/** One search per distinct size of a plan trained at `batchSize` (sequences for a transformer, rows for an MLP). */
export function learningRateTasks(plan: PlannedRun[], batchSize: number, points: number): LearningRateTask[] {
  const smallest = Math.min(...plan.map((run) => run.budgetFlops));
  const tasks = new Map<number, LearningRateTask>();
  for (const run of plan) {
    if (tasks.has(run.params)) continue;
    const tokensPerStep = batchSize * familyOf(run.model).positionsPerExample(run.model);
    const affordable = Math.round(smallest / run.flopsPerToken / tokensPerStep);
    const steps = Math.max(10, Math.min(run.steps, Math.max(50, affordable)));
    tasks.set(run.params, {
      params: run.params,
      model: run.model,
      steps,
      rates: learningRateGrid(defaultLearningRate(run.model.family), points),
    });
  }
  return [...tasks.values()].sort((a, b) => a.params - b.params);
}

export interface ChosenLearningRate {
  params: number;
  learningRate: number;
  /** the study that searched it */
  studyId: string;
  /** the best rate sits at an end of the grid: a wider grid might find a better one */
  atEdge: boolean;
}

/** The best rate of a size's trials (lowest best validation loss); null when none completed. */
export function chooseLearningRate(
  task: LearningRateTask,
  studyId: string,
  trials: Array<{ learningRate: number; value: number | null }>,
): ChosenLearningRate | null {
  const done = trials.filter((t): t is { learningRate: number; value: number } => t.value !== null);
  if (done.length === 0) return null;
  const best = done.reduce((m, t) => (t.value < m.value ? t : m));
  const atEdge = best.learningRate === Math.min(...task.rates) || best.learningRate === Math.max(...task.rates);
  return { params: task.params, learningRate: best.learningRate, studyId, atEdge };
}

/** The study that searches a size's rate: a grid over the task's rates, trials of the size's own model. */
export function learningRateStudy(
  task: LearningRateTask,
  datasetId: string,
  batchSize: number,
  seed: number,
): StudyRequest {
  return {
    datasetId,
    space: { learningRate: { type: 'choice', values: task.rates } },
    sampler: 'grid',
    pruner: 'none',
    trials: task.rates.length,
    steps: task.steps,
    seed,
    name: `Learning rate for ${formatCount(task.params)} parameters (a sweep's per-size search)`,
    base: { model: task.model, batchSize },
  };
}

/** The best rate a finished study found for its size; null when none of its trials completed. */
export function bestLearningRate(task: LearningRateTask, study: StudyRecord): ChosenLearningRate | null {
  return chooseLearningRate(
    task,
    study.id,
    study.trials.map((trial) => ({
      learningRate: Number(trial.params.learningRate),
      value: trial.state === 'complete' ? trial.value : null,
    })),
  );
}

/** The plan with each size's tuned rate (sizes without one keep the default). */
export function applyLearningRates(
  plan: PlannedRun[],
  chosen: Array<{ params: number; learningRate: number }>,
): PlannedRun[] {
  const rate = new Map(chosen.map((c) => [c.params, c.learningRate]));
  return plan.map((run) => {
    const learningRate = rate.get(run.params);
    return learningRate === undefined ? run : { ...run, learningRate };
  });
}
