import { runStudyLoop } from '../../../src-shared/engine/session/study-loop';
import { client } from '../../lib/app.svelte';
import { queue, stopQueue, trainRuns } from '../../lib/queue.svelte';

/**
 * Drives a study in the app through the shared study loop, as the CLI does: the API answers the study's
 * calls (studies.nextTrial, studies.report, studies.finishTrial) and each trial trains in the worker
 * through the run queue.
 */

export const studyRunner = $state<{
  studyId: string | null;
  stopping: boolean;
  error: string | null;
  /** bumps after each trial, so views refresh */
  trialsDone: number;
  /** when this window started the study, and how many trials it has finished since: the time left */
  startedAt: number;
  finishedHere: number;
}>({ studyId: null, stopping: false, error: null, trialsDone: 0, startedAt: 0, finishedHere: 0 });

/** Seconds left for `remaining` trials at the pace of the trials this window finished; null before one has. */
export function studyTimeLeft(remaining: number): number | null {
  if (studyRunner.finishedHere === 0 || remaining <= 0) return remaining <= 0 ? 0 : null;
  return ((Date.now() - studyRunner.startedAt) / 1000 / studyRunner.finishedHere) * remaining;
}

export async function runStudy(studyId: string): Promise<void> {
  if (studyRunner.studyId || queue.sweepId) {
    studyRunner.error = 'Something is training already; stop it first.';
    return;
  }
  studyRunner.studyId = studyId;
  studyRunner.stopping = false;
  studyRunner.error = null;
  studyRunner.startedAt = Date.now();
  studyRunner.finishedHere = 0;
  try {
    await runStudyLoop(
      {
        nextTrial: () => client.call('studies.nextTrial', { id: studyId }),
        report: (runId, step, value) => client.call('studies.report', { id: studyId, runId, step, value }),
        finishTrial: (runId) => client.call('studies.finishTrial', { id: studyId, runId }),
      },
      async (run, prune) => {
        const ends = await trainRuns([run], `study:${studyId}`, { prune });
        if (queue.error) throw new Error(queue.error);
        // Paused before it started: the trial is left for next time.
        return ends.get(run.id) ?? { status: 'interrupted' };
      },
      {
        shouldStop: () => studyRunner.stopping,
        onTrial: () => {
          studyRunner.finishedHere++;
          studyRunner.trialsDone++;
        },
      },
    );
  } catch (error) {
    studyRunner.error = error instanceof Error ? error.message : String(error);
  } finally {
    studyRunner.studyId = null;
    studyRunner.trialsDone++;
  }
}

/** Pauses the study: the trial training now stops as interrupted and resumes when the study continues. */
export function stopStudy(): void {
  studyRunner.stopping = true;
  stopQueue();
}
