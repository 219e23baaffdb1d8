import { randomBytes } from 'node:crypto';
import {
  type DatasetManifest,
  IsoflopError,
  type RunRecord,
  type StudyRecord,
  type StudyRequest,
  type StudyTrial,
} from '../../src-shared/contract';
import { familyOf } from '../../src-shared/engine/models/families';
import { checkModelFits } from '../../src-shared/engine/planner';
import { shouldPrune } from '../../src-shared/science/pruning';
import { gridSize, largestParams, maxGridPoints, type Space, validateSpace } from '../../src-shared/science/search';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { StudyStore } from '../store/studies';
import { proposeParams, prunerOptionsFor, trialRun } from './study-trials';
import { tableModel } from './table-runs';

/**
 * Hyper-parameter studies: `<data>/studies/<id>/study.json` (the space, the sampler, every trial with its
 * parameters, state, value and intermediate values). Each trial is a run in the run store. The CLI and the
 * app drive a study the same way: `nextTrial` proposes and queues a run, the trainer reports each evaluation
 * (`reportTrial` answers whether the pruner stops it), and `finishTrial` records how it ended.
 */

export interface StudyStores {
  runs: RunStore;
  datasets: DatasetStore;
  studies: StudyStore;
}

/** What each searchable parameter may be: beyond these a trial cannot train, or cannot fit in memory. */
const parameterBounds: Record<string, [number, number]> = {
  learningRate: [1e-8, 10],
  batchSize: [1, 65_536],
  width: [1, 65_536],
  depth: [1, 64],
  dropout: [0, 0.9],
  weightDecay: [0, 10],
  l1: [0, 10],
  l2: [0, 10],
};

/** Refuses what cannot train, before anything does: an empty range, a bad rate, a one-class target. */
export function checkStudy(request: StudyRequest, dataset: DatasetManifest): void {
  try {
    validateSpace(request.space as Space);
  } catch (error) {
    throw new IsoflopError('BAD_REQUEST', `The search space is not usable: ${(error as Error).message}.`);
  }
  const dims = request.space;
  for (const [name, [least, most]] of Object.entries(parameterBounds)) {
    const dim = dims[name as keyof typeof dims];
    if (!dim) continue;
    const values = dim.type === 'choice' ? dim.values.map(Number) : [dim.min, dim.max];
    const low = values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    const high = values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
    if (!(low >= least) || !(high <= most)) {
      throw new IsoflopError(
        'BAD_REQUEST',
        `field "space.${name}": its values must lie from ${least} to ${most}; this space reaches ${low < least ? low : high}.`,
      );
    }
  }
  if (request.base) {
    const shaped = (['width', 'depth', 'batchSize'] as const).filter((name) => dims[name] !== undefined);
    if (shaped.length > 0)
      throw new IsoflopError(
        'BAD_REQUEST',
        `A study of a fixed model searches training settings only; "${shaped.join('", "')}" would change the model or its batch.`,
      );
    const family = familyOf(request.base.model);
    const kindName = (kind: 'text' | 'table') => (kind === 'text' ? 'text corpus' : 'table');
    if (dataset.kind !== family.trainsOn)
      throw new IsoflopError(
        'BAD_REQUEST',
        `A ${family.label} trains on a ${kindName(family.trainsOn)}; ${dataset.id} is a ${kindName(dataset.kind)}.`,
      );
    checkModelFits(request.base.model, 'field "base.model"');
    return;
  }
  if (dataset.kind !== 'table') {
    throw new IsoflopError(
      'BAD_REQUEST',
      `Studies of network shapes tune MLPs on tables; ${dataset.id} is a text corpus. Choose a CSV dataset.`,
    );
  }
  // The largest network the space can propose must fit in memory.
  const most = (dim: (typeof dims)[keyof typeof dims], fallback: number) =>
    dim ? (dim.type === 'choice' ? dim.values.reduce((a, b) => Math.max(a, b), 0) : dim.max) : fallback;
  checkModelFits(
    tableModel(dataset, { width: most(dims.width, 32), depth: most(dims.depth, 2), dropout: 0 }),
    'field "space"',
  );
  if (dataset.task === 'classification' && (dataset.target.classes?.length ?? 0) < 2) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `${dataset.id}'s target "${dataset.target.name}" has a single class: there is nothing to classify.`,
    );
  }
}

export async function createStudy(stores: StudyStores, request: StudyRequest): Promise<StudyRecord> {
  const dataset = await stores.datasets.get(request.datasetId);
  checkStudy(request, dataset);
  const grid = request.sampler === 'grid' ? gridSize(request.space as Space) : Number.POSITIVE_INFINITY;
  if (request.sampler === 'grid' && grid > maxGridPoints) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `field "space": this grid has ${grid.toLocaleString('en-US')} points (the product of every parameter's levels); a grid study may hold at most ${maxGridPoints.toLocaleString('en-US')}. Use fewer values, or the random or TPE sampler.`,
    );
  }
  const now = new Date().toISOString();
  const id = `study-${now.slice(0, 10)}-${randomBytes(3).toString('hex')}`;
  return stores.studies.save({
    formatVersion: 1,
    id,
    name: request.name ?? `${dataset.name}: ${request.sampler} search, ${now.slice(0, 16).replace('T', ' ')} UTC`,
    createdAt: now,
    datasetId: dataset.id,
    space: request.space,
    sampler: request.sampler,
    pruner: request.pruner,
    trialsPlanned: Math.min(request.trials, grid),
    steps: request.steps,
    seed: request.seed,
    objective: 'best validation loss',
    base: request.base ?? null,
    trials: [],
  });
}

/**
 * The run to train next: an unfinished trial's (the app or a process stopped mid-trial), else a new trial's.
 * Null once the study has all its trials. A trial another live process is training is left to it, so
 * several processes (`isoflop tune --jobs`, the app beside a CLI) can each take the next trial; with
 * `claim`, the run comes with its lock already taken for this process (no other can take it between the
 * study handing it out and the run starting). Under the study's lock: no two callers get the same new trial.
 */
export async function nextTrial(
  stores: StudyStores,
  studyId: string,
  options: { claim?: boolean } = {},
): Promise<RunRecord | null> {
  return stores.studies.locked(studyId, async () => {
    let study = await stores.studies.get(studyId);
    for (const trial of study.trials.filter((t) => t.state === 'running')) {
      const run = await stores.runs.get(trial.runId).catch(() => null);
      if (run && (run.status === 'queued' || run.status === 'interrupted' || run.status === 'running')) {
        if (options.claim ? await stores.runs.tryLock(run.id) : (await stores.runs.lockHolder(run.id)) !== 'other')
          return run;
        continue;
      }
      study = await finishTrialOf(stores, study, trial.runId);
    }
    if (study.trials.length >= study.trialsPlanned) return null;
    const dataset = await stores.datasets.get(study.datasetId);
    const trialNumber = study.trials.length + 1;
    const params = proposeParams(study, trialNumber);
    // The run first (its id is the trial's, so a second caller or a retry after a crash finds it), then the
    // trial in study.json: until the study records it the run is not listed, and a crash between leaves
    // nothing that no study owns (RunStore.uncommitted).
    const planned = trialRun(study, dataset, trialNumber, params);
    // A run with this trial's id that the study does not record is a leftover of a process that died before
    // saving the trial (under this lock, nobody else is creating it): it never trained. It is reused, unless
    // its parameters differ from this proposal (TPE's depend on the trials pending now): then it goes.
    const leftover = await stores.runs.get(planned.id).catch(() => null);
    if (leftover && JSON.stringify(leftover.config) !== JSON.stringify(planned.config))
      await stores.runs.delete(planned.id);
    const run = await stores.runs.create(planned, { ifAbsent: true });
    if (options.claim && !(await stores.runs.tryLock(run.id)))
      throw new IsoflopError(
        'CONFLICT',
        `Run ${run.id} of study ${studyId} is held by another process; let it finish, then run tune --resume ${studyId} again.`,
      );
    const trial: StudyTrial = {
      number: trialNumber,
      runId: run.id,
      params,
      state: 'running',
      value: null,
      intermediate: [],
      note: null,
    };
    await stores.studies.save({ ...study, trials: [...study.trials, trial] });
    return run;
  });
}

function trialOf(study: StudyRecord, runId: string): StudyTrial {
  const trial = study.trials.find((t) => t.runId === runId);
  if (!trial) throw new IsoflopError('NOT_FOUND', `Run ${runId} is not a trial of study ${study.id}.`);
  return trial;
}

async function updateTrial(
  stores: StudyStores,
  study: StudyRecord,
  runId: string,
  change: (trial: StudyTrial) => StudyTrial,
): Promise<StudyRecord> {
  return stores.studies.save({
    ...study,
    trials: study.trials.map((t) => (t.runId === runId ? change(t) : t)),
  });
}

/**
 * Records a trial's validation loss at a step and answers whether the pruner stops it there. The median rule
 * compares with completed trials (as Optuna does); ASHA with every trial that reached the rung.
 */
export async function reportTrial(
  stores: StudyStores,
  studyId: string,
  runId: string,
  step: number,
  value: number,
): Promise<{ prune: boolean }> {
  return stores.studies.locked(studyId, async () => {
    const study = await stores.studies.get(studyId);
    const trial = trialOf(study, runId);
    if (trial.state !== 'running') return { prune: trial.state === 'pruned' };
    const others = study.trials
      .filter((t) => t.runId !== runId && (study.pruner === 'asha' || t.state === 'complete'))
      .map((t) => t.intermediate);
    const prune = shouldPrune(study.pruner, step, value, others, study.steps, prunerOptionsFor(study.steps));
    const rule = study.pruner === 'asha' ? 'successive halving (ASHA)' : 'the median rule';
    await updateTrial(stores, study, runId, (t) => ({
      ...t,
      intermediate: [...t.intermediate.filter(([s]) => s !== step), [step, value] as [number, number]],
      state: prune ? 'pruned' : t.state,
      note: prune ? `pruned by ${rule} at step ${step} (validation loss ${value.toPrecision(4)})` : t.note,
    }));
    return { prune };
  });
}

/** Records how a trial's run ended: complete with its best validation loss, pruned, or failed. */
export async function finishTrial(stores: StudyStores, studyId: string, runId: string): Promise<StudyRecord> {
  return stores.studies.locked(studyId, async () => finishTrialOf(stores, await stores.studies.get(studyId), runId));
}

/** finishTrial on a study already read under its lock. */
async function finishTrialOf(stores: StudyStores, study: StudyRecord, runId: string): Promise<StudyRecord> {
  const trial = trialOf(study, runId);
  const run = await stores.runs.get(runId).catch(() => null);
  if (trial.state === 'pruned') {
    if (run && (run.status === 'queued' || run.status === 'interrupted' || run.status === 'running')) {
      await stores.runs.update(runId, { status: 'cancelled' });
    }
    // The pruner answers while the run goes on: a short run can reach its last step first. It trained to
    // the end, so its value counts.
    const value = run?.status === 'completed' ? run.result?.bestValLoss : null;
    if (value !== null && value !== undefined)
      return updateTrial(stores, study, runId, (t) => ({
        ...t,
        state: 'complete',
        value,
        note: `finished before the pruner's stop (${t.note ?? 'pruned'}) reached it`,
      }));
    return study;
  }
  if (!run) {
    return updateTrial(stores, study, runId, (t) => ({ ...t, state: 'failed', note: 'its run was deleted' }));
  }
  if (run.status === 'completed' && run.result?.bestValLoss !== null && run.result?.bestValLoss !== undefined) {
    const value = run.result.bestValLoss;
    return updateTrial(stores, study, runId, (t) => ({ ...t, state: 'complete', value }));
  }
  if (run.status === 'queued' || run.status === 'interrupted' || run.status === 'running') return study;
  const why =
    run.status === 'diverged' ? `diverged at step ${run.result?.divergedAt ?? '?'}` : (run.error ?? run.status);
  return updateTrial(stores, study, runId, (t) => ({ ...t, state: 'failed', note: why }));
}

/**
 * What is left to train of a study, for sizing `--jobs`: its unfinished trials' runs, and for each trial
 * not yet proposed the costliest trial its space allows (queued).
 */
export async function runsLeft(stores: StudyStores, study: StudyRecord): Promise<RunRecord[]> {
  const unfinished = await Promise.all(
    study.trials.filter((t) => t.state === 'running').map((t) => stores.runs.get(t.runId).catch(() => null)),
  );
  const dataset = await stores.datasets.get(study.datasetId);
  const costliest = trialRun(study, dataset, study.trials.length + 1, largestParams(study.space as Space));
  return [
    ...unfinished.filter((run): run is RunRecord => run !== null),
    ...Array.from({ length: Math.max(0, study.trialsPlanned - study.trials.length) }, () => costliest),
  ];
}

/** The best complete trial, or null. */
export function bestTrial(study: StudyRecord): StudyTrial | null {
  let best: StudyTrial | null = null;
  for (const t of study.trials) {
    if (t.state === 'complete' && t.value !== null && (best === null || t.value < (best.value as number))) best = t;
  }
  return best;
}
