import type { PlannedRun } from '../../../src-shared/contract';
import {
  bestLearningRate,
  type ChosenLearningRate,
  learningRateStudy,
  learningRateTasks,
} from '../../../src-shared/engine/lr-tuning';
import { formatCount } from '../../../src-shared/format';
import { client } from '../../lib/app.svelte';
import { runStudy, studyRunner } from '../studies/study-runner.svelte';

/**
 * The sweep planner's "tune the learning rate per size first": one grid study per size, trained in the
 * worker like any study (the Studies view shows them), then each size's best rate for `sweeps.create`.
 */

export const lrSearch = $state<{ active: boolean; size: number; sizes: number; label: string }>({
  active: false,
  size: 0,
  sizes: 0,
  label: '',
});

export async function searchLearningRates(
  datasetId: string,
  plan: PlannedRun[],
  batchSize: number,
  points = 5,
): Promise<ChosenLearningRate[]> {
  const tasks = learningRateTasks(plan, batchSize, points);
  const chosen: ChosenLearningRate[] = [];
  lrSearch.active = true;
  lrSearch.sizes = tasks.length;
  try {
    for (const [index, task] of tasks.entries()) {
      lrSearch.size = index + 1;
      lrSearch.label = `${formatCount(task.params)} parameters: ${task.rates.length} rates from ${task.rates[0]?.toExponential(1)} to ${task.rates.at(-1)?.toExponential(1)}, ${task.steps} steps each`;
      const study = await client.call('studies.create', learningRateStudy(task, datasetId, batchSize, 1));
      await runStudy(study.id);
      if (studyRunner.error) throw new Error(studyRunner.error);
      if (studyRunner.stopping) throw new Error('The learning-rate search was stopped; the sweep was not created.');
      const { study: done } = await client.call('studies.get', { id: study.id });
      const best = bestLearningRate(task, done);
      if (best) chosen.push(best);
    }
  } finally {
    lrSearch.active = false;
  }
  return chosen;
}
