import { IsoflopError, type StudyRecord, type StudyTrial } from '../../src-shared/contract';
import { finishTrial, nextTrial, reportTrial, type StudyStores } from '../usecases/studies';
import { type ExecuteOptions, executeClaimedRun } from './run-executor';

/**
 * Runs a stored study headless to its last trial: `nextTrial` proposes and queues each run, every evaluation
 * is reported (the pruner may stop the trial), and `finishTrial` records how it ended. `isoflop tune` and a
 * sweep's learning-rate search both run studies this way.
 */
export async function runStudy(
  stores: StudyStores,
  studyId: string,
  options: Pick<ExecuteOptions, 'backend'> & {
    onTrial?(trial: StudyTrial, study: StudyRecord): void;
    shouldStop?(): boolean;
  } = {},
): Promise<StudyRecord> {
  for (;;) {
    if (options.shouldStop?.()) break;
    const run = await nextTrial(stores, studyId);
    if (!run) break;
    const control: { stop?: () => void } = {};
    // Reports go one after another; a prune stops the trainer at its next step.
    let reports: Promise<unknown> = Promise.resolve();
    const trained = await executeClaimedRun(stores, run.id, {
      ...(options.backend ? { backend: options.backend } : {}),
      control,
      onMetrics: (_run, m) => {
        if (m.valLoss === null) return;
        const loss = m.valLoss;
        reports = reports.then(async () => {
          const { prune } = await reportTrial(stores, studyId, run.id, m.step, loss);
          if (prune) control.stop?.();
        });
      },
    });
    await reports;
    if (!trained) {
      throw new IsoflopError(
        'CONFLICT',
        `Run ${run.id} of study ${studyId} is being trained by another process; let it finish, or stop it and run tune --resume ${studyId} again.`,
      );
    }
    const study = await finishTrial(stores, studyId, run.id);
    const trial = study.trials.find((t) => t.runId === run.id);
    if (trial) options.onTrial?.(trial, study);
  }
  return stores.studies.get(studyId);
}
