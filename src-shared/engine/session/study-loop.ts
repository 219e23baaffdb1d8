import type { MetricRow, RunRecord, RunStatus } from '../../contract/runs';
import type { StudyRecord, StudyTrial } from '../../contract/studies';

/**
 * A study's loop, the same in the CLI and the app: the study proposes each trial (a queued run), the run
 * trains with every evaluation reported (the pruner may stop it, as cancelled), and the trial's end is
 * recorded. The host gives the study's three calls (the store directly, or the API) and how to train a run.
 */

export interface StudyPort {
  /** the next trial's run (or the one left unfinished), or null when the study is done */
  nextTrial(): Promise<RunRecord | null>;
  report(runId: string, step: number, value: number): Promise<{ prune: boolean }>;
  finishTrial(runId: string): Promise<StudyRecord>;
}

/** Trains a trial's run with the pruner's hook; resolves with how the run ended (its status). */
export type TrainTrial = (
  run: RunRecord,
  prune: (metrics: MetricRow) => Promise<boolean>,
) => Promise<{ status: RunStatus }>;

export async function runStudyLoop(
  port: StudyPort,
  train: TrainTrial,
  options: { shouldStop?(): boolean; onTrial?(trial: StudyTrial, study: StudyRecord): void } = {},
): Promise<void> {
  while (!options.shouldStop?.()) {
    const run = await port.nextTrial();
    if (!run) break;
    const end = await train(
      run,
      async (metrics) => metrics.valLoss !== null && (await port.report(run.id, metrics.step, metrics.valLoss)).prune,
    );
    // Paused: the trial resumes from its checkpoint when the study goes on.
    if (end.status === 'interrupted') break;
    const study = await port.finishTrial(run.id);
    const trial = study.trials.find((t) => t.runId === run.id);
    if (trial) options.onTrial?.(trial, study);
  }
}
