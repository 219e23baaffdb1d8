import { client } from '../../lib/app.svelte';
import { queue, stopQueue, trainRuns } from '../../lib/queue.svelte';

/**
 * Drives a study in the app as the CLI does: the main side proposes each trial (studies.nextTrial), the
 * worker trains it through the run queue, every evaluation is reported (studies.report) and the pruner's
 * answer may stop it, then the trial's end is recorded (studies.finishTrial).
 */

export const studyRunner = $state<{
  studyId: string | null;
  stopping: boolean;
  error: string | null;
  /** bumps after each trial, so views refresh */
  trialsDone: number;
}>({ studyId: null, stopping: false, error: null, trialsDone: 0 });

export async function runStudy(studyId: string): Promise<void> {
  if (studyRunner.studyId || queue.sweepId) {
    studyRunner.error = 'Something is training already; stop it first.';
    return;
  }
  studyRunner.studyId = studyId;
  studyRunner.stopping = false;
  studyRunner.error = null;
  try {
    while (!studyRunner.stopping) {
      const run = await client.call('studies.nextTrial', { id: studyId });
      if (!run) break;
      await trainRuns([run], `study:${studyId}`, {
        shouldStop: async (trained, metrics) =>
          (
            await client.call('studies.report', {
              id: studyId,
              runId: trained.id,
              step: metrics.step,
              value: metrics.valLoss as number,
            })
          ).prune,
      });
      if (queue.error) throw new Error(queue.error);
      if (studyRunner.stopping) break; // paused: the trial resumes from its checkpoint next time
      await client.call('studies.finishTrial', { id: studyId, runId: run.id });
      studyRunner.trialsDone++;
    }
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
