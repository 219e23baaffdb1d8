import type { PlannedRun } from '../../../src-shared/contract';
import { type ChosenLearningRate, chooseLearningRate, learningRateTasks } from '../../../src-shared/engine/lr-tuning';
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
  const first = plan[0]?.model;
  const tokensPerStep = batchSize * (first?.family === 'gpt' ? first.contextLength : 1);
  const tasks = learningRateTasks(plan, tokensPerStep, points);
  const chosen: ChosenLearningRate[] = [];
  lrSearch.active = true;
  lrSearch.sizes = tasks.length;
  try {
    for (const [index, task] of tasks.entries()) {
      lrSearch.size = index + 1;
      lrSearch.label = `${formatCount(task.params)} parameters: ${task.rates.length} rates from ${task.rates[0]?.toExponential(1)} to ${task.rates.at(-1)?.toExponential(1)}, ${task.steps} steps each`;
      const study = await client.call('studies.create', {
        datasetId,
        space: { learningRate: { type: 'choice', values: task.rates } },
        sampler: 'grid',
        pruner: 'none',
        trials: task.rates.length,
        steps: task.steps,
        seed: 1,
        name: `Learning rate for ${formatCount(task.params)} parameters (a sweep's per-size search)`,
        base: { model: task.model, batchSize },
      });
      await runStudy(study.id);
      if (studyRunner.error) throw new Error(studyRunner.error);
      if (studyRunner.stopping) throw new Error('The learning-rate search was stopped; the sweep was not created.');
      const { study: done } = await client.call('studies.get', { id: study.id });
      const best = chooseLearningRate(
        task,
        study.id,
        done.trials.map((trial) => ({
          learningRate: Number(trial.params.learningRate),
          value: trial.state === 'complete' ? trial.value : null,
        })),
      );
      if (best) chosen.push(best);
    }
  } finally {
    lrSearch.active = false;
  }
  return chosen;
}
