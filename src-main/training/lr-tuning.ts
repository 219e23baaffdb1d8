import type { DatasetManifest, PlannedRun, StudyRecord, StudyTrial } from '../../src-shared/contract';
import {
  applyLearningRates,
  bestLearningRate,
  type ChosenLearningRate,
  learningRateStudy,
  learningRateTasks,
} from '../../src-shared/engine/lr-tuning';
import { createStudy, type StudyStores } from '../usecases/studies';
import type { NodeBackendPreference } from './node-backends';
import { runStudy } from './study';

/**
 * A sweep's per-size learning-rate search, headless: one grid study per size (its trials are runs, the
 * Studies view shows them), then the plan with each size's best rate.
 */
export async function tuneLearningRates(
  stores: StudyStores,
  dataset: DatasetManifest,
  plan: PlannedRun[],
  options: {
    batchSize: number;
    points: number;
    seed: number;
    backend?: NodeBackendPreference | undefined;
    onSize?(size: { params: number; index: number; count: number; rates: number[]; steps: number }): void;
    onTrial?(trial: StudyTrial, study: StudyRecord): void;
  },
): Promise<{ plan: PlannedRun[]; chosen: ChosenLearningRate[]; missing: number[] }> {
  const tasks = learningRateTasks(plan, options.batchSize, options.points);
  const chosen: ChosenLearningRate[] = [];
  const missing: number[] = [];
  for (const [index, task] of tasks.entries()) {
    options.onSize?.({ params: task.params, index, count: tasks.length, rates: task.rates, steps: task.steps });
    const study = await createStudy(stores, learningRateStudy(task, dataset.id, options.batchSize, options.seed));
    const done = await runStudy(stores, study.id, {
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.onTrial ? { onTrial: options.onTrial } : {}),
    });
    const best = bestLearningRate(task, done);
    if (best) chosen.push(best);
    else missing.push(task.params);
  }
  return { plan: applyLearningRates(plan, chosen), chosen, missing };
}
