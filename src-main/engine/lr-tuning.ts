import type { BackendName, DatasetManifest, PlannedRun, StudyRecord, StudyTrial } from '../../src-shared/contract';
import {
  applyLearningRates,
  type ChosenLearningRate,
  chooseLearningRate,
  learningRateTasks,
} from '../../src-shared/engine/lr-tuning';
import { formatCount } from '../../src-shared/format';
import { createStudy, type StudyStores } from '../store/studies';
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
    backend?: BackendName;
    onSize?(size: { params: number; index: number; count: number; rates: number[]; steps: number }): void;
    onTrial?(trial: StudyTrial, study: StudyRecord): void;
  },
): Promise<{ plan: PlannedRun[]; chosen: ChosenLearningRate[]; missing: number[] }> {
  const tokensPerStep = dataset.kind === 'table' ? options.batchSize : options.batchSize * (contextOf(plan) ?? 1);
  const tasks = learningRateTasks(plan, tokensPerStep, options.points);
  const chosen: ChosenLearningRate[] = [];
  const missing: number[] = [];
  for (const [index, task] of tasks.entries()) {
    options.onSize?.({ params: task.params, index, count: tasks.length, rates: task.rates, steps: task.steps });
    const study = await createStudy(stores, {
      datasetId: dataset.id,
      space: { learningRate: { type: 'choice', values: task.rates } },
      sampler: 'grid',
      pruner: 'none',
      trials: task.rates.length,
      steps: task.steps,
      seed: options.seed,
      name: `Learning rate for ${formatCount(task.params)} parameters (a sweep's per-size search)`,
      base: { model: task.model, batchSize: options.batchSize },
    });
    const done = await runStudy(stores, study.id, {
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.onTrial ? { onTrial: options.onTrial } : {}),
    });
    const best = chooseLearningRate(
      task,
      study.id,
      done.trials.map((trial) => ({
        learningRate: Number(trial.params.learningRate),
        value: trial.state === 'complete' ? trial.value : null,
      })),
    );
    if (best) chosen.push(best);
    else missing.push(task.params);
  }
  return { plan: applyLearningRates(plan, chosen), chosen, missing };
}

function contextOf(plan: PlannedRun[]): number | null {
  const model = plan[0]?.model;
  return model?.family === 'gpt' ? model.contextLength : null;
}
