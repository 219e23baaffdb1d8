import { IsoflopError, type StudyRecord, type StudyTrial } from '../../src-shared/contract';
import { runStudyLoop } from '../../src-shared/engine/session/study-loop';
import { finishTrial, nextTrial, reportTrial, type StudyStores } from '../usecases/studies';
import { type ExecuteOptions, executeClaimedRun } from './run-executor';

/**
 * Runs a stored study headless to its last trial, through the shared study loop: the store answers the
 * study's calls and each trial trains in this process. `isoflop tune` and a sweep's learning-rate search
 * run studies this way. Other processes may run the same study at once (`tune --jobs`): each takes the
 * next trial none holds, so this returns when no trial is left to take, while others may still train.
 */
export async function runStudy(
  stores: StudyStores,
  studyId: string,
  options: Pick<ExecuteOptions, 'backend'> & {
    onTrial?(trial: StudyTrial, study: StudyRecord): void;
    shouldStop?(): boolean;
  } = {},
): Promise<StudyRecord> {
  await runStudyLoop(
    {
      nextTrial: () => nextTrial(stores, studyId, { claim: true }),
      report: (runId, step, value) => reportTrial(stores, studyId, runId, step, value),
      finishTrial: (runId) => finishTrial(stores, studyId, runId),
    },
    async (run, prune) => {
      // nextTrial claimed the run for this process: other processes training the study take other trials.
      const trained = await executeClaimedRun(stores, run.id, {
        ...(options.backend ? { backend: options.backend } : {}),
        prune,
        claimed: true,
      });
      if (!trained) throw new IsoflopError('CONFLICT', `Run ${run.id} of study ${studyId} lost its lock.`);
      return trained;
    },
    options,
  );
  return stores.studies.get(studyId);
}
