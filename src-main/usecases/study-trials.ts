import type { DatasetManifest, RunConfig, RunRecord, StudyRecord } from '../../src-shared/contract';
import { defaultLearningRate } from '../../src-shared/engine/lr-tuning';
import { familyOf } from '../../src-shared/engine/models/families';
import { accountFor } from '../../src-shared/engine/planner';
import { formatParams } from '../../src-shared/format';
import { Random } from '../../src-shared/random';
import { defaultPrunerOptions, type PrunerOptions, pruningEvalSteps } from '../../src-shared/science/pruning';
import { gridPoint, type Params, type Space, sampleRandom, sampleTpe } from '../../src-shared/science/search';
import { queuedRun } from '../store/runs';
import { tableRunConfig } from './table-runs';

/**
 * What a study's trial is: the parameters the sampler proposes for it (`proposeParams`), and the run it
 * trains with them (`trialRun`). How a study hands trials out and records them is in studies.ts.
 */

/** ASHA's rungs for trials of `steps` steps: about four, the first at steps / η³. */
export function prunerOptionsFor(steps: number): PrunerOptions {
  const eta = defaultPrunerOptions.reductionFactor;
  return { ...defaultPrunerOptions, minResource: Math.max(1, Math.round(steps / eta ** 3)) };
}

const number = (params: Params, name: string, fallback: number) =>
  typeof params[name] === 'number' ? (params[name] as number) : fallback;

/** The run a trial trains: an MLP on the study's table with the trial's parameters. */
export function trialRun(study: StudyRecord, dataset: DatasetManifest, trialNumber: number, params: Params): RunRecord {
  const steps = study.steps;
  const evalSteps = pruningEvalSteps(study.pruner, steps, prunerOptionsFor(steps));
  const config = study.base
    ? fixedModelConfig(study, dataset, params, trialNumber, evalSteps)
    : tableRunConfig(dataset, {
        width: number(params, 'width', 32),
        depth: number(params, 'depth', 2),
        dropout: number(params, 'dropout', 0),
        batchSize: number(params, 'batchSize', 64),
        steps,
        learningRate: number(params, 'learningRate', 3e-3),
        weightDecay: number(params, 'weightDecay', 0),
        l1: number(params, 'l1', 0),
        l2: number(params, 'l2', 0),
        seed: study.seed + trialNumber,
        evalSteps,
      });
  const label = formatParams(params);
  const run = queuedRun(
    `${study.id}-t${String(trialNumber).padStart(3, '0')}`,
    `trial ${trialNumber}: ${label}`,
    null,
    config,
  );
  return { ...run, studyId: study.id };
}

/** A trial of a fixed model (`study.base`): the model and batch as given, the training settings from the trial. */
function fixedModelConfig(
  study: StudyRecord,
  dataset: DatasetManifest,
  params: Params,
  trialNumber: number,
  evalSteps: number[],
): RunConfig {
  const base = study.base as NonNullable<StudyRecord['base']>;
  const dropout = number(params, 'dropout', base.model.dropout);
  const model = { ...base.model, dropout };
  const tokensPerStep = base.batchSize * familyOf(model).positionsPerExample(model);
  const { flopsPerToken } = accountFor(model);
  const steps = study.steps;
  return {
    datasetId: dataset.id,
    model,
    batchSize: base.batchSize,
    budgetFlops: flopsPerToken * tokensPerStep * steps,
    plannedTokens: tokensPerStep * steps,
    plannedSteps: steps,
    peakLearningRate: number(params, 'learningRate', defaultLearningRate(model.family)),
    warmupSteps: Math.max(1, Math.round(steps * 0.05)),
    weightDecay: number(params, 'weightDecay', 0),
    l1: number(params, 'l1', 0),
    l2: number(params, 'l2', 0),
    earlyStopping: null,
    seed: study.seed + trialNumber,
    evalSteps,
    fold: null,
  };
}

/** The parameters of trial `number`: the same seed and the same earlier results give the same proposal. */
export function proposeParams(study: StudyRecord, trialNumber: number): Params {
  const space = study.space as Space;
  if (study.sampler === 'grid') return gridPoint(space, trialNumber - 1);
  const random = new Random((study.seed * 7919 + trialNumber) >>> 0);
  if (study.sampler === 'random') return sampleRandom(space, random);
  const earlier = study.trials.filter((t) => t.number < trialNumber);
  const finished = earlier
    .filter((t) => t.state === 'complete' && t.value !== null)
    .map((t) => ({ params: t.params, value: t.value as number }));
  // Trials still training (in other processes) count as bad, so parallel trials spread out.
  const pending = earlier.filter((t) => t.state === 'running').map((t) => t.params);
  return sampleTpe(space, finished, random, pending);
}
