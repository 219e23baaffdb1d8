import { randomBytes } from 'node:crypto';
import { IsoflopError, type Job } from '../../src-shared/contract';
import { estimateEta } from '../../src-shared/format';
import { unexpected } from './router';

/** Long work (imports) runs in the background; the UI polls jobs.get for progress. */

export interface JobControl {
  progress(phase: string, done: number, total: number): void;
}

const keepFinishedMs = 60 * 60 * 1000;

export class JobRegistry {
  private readonly jobs = new Map<string, Job & { started: number; finished: number | null }>();

  start(label: string, work: (control: JobControl) => Promise<string>): Job {
    this.forgetOld();
    const id = randomBytes(8).toString('hex');
    const started = Date.now();
    const job = {
      id,
      kind: 'dataset.import' as const,
      label,
      state: 'running' as Job['state'],
      phase: 'starting',
      bytesDone: 0,
      bytesTotal: 0,
      startedAt: new Date(started).toISOString(),
      etaSeconds: null as number | null,
      datasetId: null as string | null,
      error: null as Job['error'],
      started,
      finished: null as number | null,
    };
    this.jobs.set(id, job);
    const control: JobControl = {
      progress(phase, done, total) {
        if (phase !== job.phase) job.started = Date.now();
        job.phase = phase;
        job.bytesDone = done;
        job.bytesTotal = total;
        job.etaSeconds = estimateEta((Date.now() - job.started) / 1000, done, total);
      },
    };
    work(control).then(
      (datasetId) => {
        Object.assign(job, { state: 'succeeded', datasetId, etaSeconds: 0, finished: Date.now(), phase: 'done' });
        job.bytesDone = job.bytesTotal;
      },
      (error: unknown) => {
        const typed = error instanceof IsoflopError ? error.toJSON() : unexpected(`Job "${job.label}"`, error);
        Object.assign(job, { state: 'failed', error: typed, etaSeconds: null, finished: Date.now() });
      },
    );
    return this.view(job);
  }

  get(id: string): Job {
    const job = this.jobs.get(id);
    if (!job)
      throw new IsoflopError('NOT_FOUND', `There is no job "${id}" (jobs are kept for an hour after they end).`);
    return this.view(job);
  }

  private view(job: Job & { started: number; finished: number | null }): Job {
    const { started: _started, finished: _finished, ...rest } = job;
    return { ...rest };
  }

  private forgetOld(): void {
    const now = Date.now();
    for (const [id, job] of this.jobs)
      if (job.finished !== null && now - job.finished > keepFinishedMs) this.jobs.delete(id);
  }
}
