import { describe, expect, it } from 'vitest';
import { queuedRun } from '../../../src-main/store/runs';
import { metricRow, tinyRunConfig } from '../../../src-main/testing';
import type { MetricRow, RunRecord, RunStatus } from '../../contract/runs';
import type { StudyRecord } from '../../contract/studies';
import { runStudyLoop, type StudyPort } from './study-loop';

/** A study of `trials` trials kept in memory: the calls it gets, and the trials it records. */
function fakeStudy(trials: number) {
  const calls: string[] = [];
  const finished: string[] = [];
  let proposed = 0;
  let open: RunRecord | null = null;
  const port: StudyPort = {
    nextTrial: async () => {
      calls.push('next');
      if (open) return open;
      if (proposed === trials) return null;
      proposed++;
      open = queuedRun(
        `t${proposed}`,
        `trial ${proposed}`,
        null,
        tinyRunConfig('d', { inputs: 2, width: 4, depth: 1 }, 10, [10]),
      );
      return open;
    },
    report: async (runId, step, value) => {
      calls.push(`report ${runId} ${step}`);
      return { prune: value > 1 };
    },
    finishTrial: async (runId) => {
      calls.push(`finish ${runId}`);
      finished.push(runId);
      open = null;
      return {
        trials: [
          { runId, number: finished.length, params: {}, value: 0.5, state: 'complete', intermediate: [], note: null },
        ],
      } as unknown as StudyRecord;
    },
  };
  return { port, calls, finished };
}

const row = (step: number, valLoss: number): MetricRow => ({ ...metricRow(step), valLoss, valAccuracy: null });

describe('study loop', () => {
  it('trains each proposed trial, reports its evaluations to the pruner, and records its end', async () => {
    const { port, calls, finished } = fakeStudy(3);
    const trained: string[] = [];
    const pruned: string[] = [];
    const onTrial: number[] = [];
    await runStudyLoop(
      port,
      async (run, prune) => {
        trained.push(run.id);
        // Trial 2's loss is bad: the pruner stops it.
        const loss = run.id === 't2' ? 5 : 0.5;
        for (const step of [5, 10]) {
          if (await prune(row(step, loss))) {
            pruned.push(run.id);
            return { status: 'cancelled' as RunStatus };
          }
        }
        expect(await prune({ ...row(10, loss), valLoss: null })).toBe(false);
        return { status: 'completed' as RunStatus };
      },
      { onTrial: (trial) => onTrial.push(trial.number) },
    );
    expect(trained).toEqual(['t1', 't2', 't3']);
    expect(pruned).toEqual(['t2']);
    expect(finished).toEqual(['t1', 't2', 't3']);
    expect(onTrial).toEqual([1, 2, 3]);
    expect(calls.filter((c) => c.startsWith('report t2'))).toEqual(['report t2 5']);
    expect(calls.at(-1)).toBe('next');
  });

  it('a paused trial is not finished: the loop stops, and the study resumes that trial next time', async () => {
    const { port, finished } = fakeStudy(3);
    const trained: string[] = [];
    await runStudyLoop(port, async (run) => {
      trained.push(run.id);
      return { status: (run.id === 't2' ? 'interrupted' : 'completed') as RunStatus };
    });
    expect(trained).toEqual(['t1', 't2']);
    expect(finished).toEqual(['t1']);
    await runStudyLoop(port, async (run) => {
      trained.push(run.id);
      return { status: 'completed' as RunStatus };
    });
    expect(trained).toEqual(['t1', 't2', 't2', 't3']);
    expect(finished).toEqual(['t1', 't2', 't3']);
  });

  it('stops before the next trial when asked, and passes a training error on', async () => {
    const { port, finished } = fakeStudy(5);
    let stop = false;
    await runStudyLoop(
      port,
      async () => {
        stop = true;
        return { status: 'completed' as RunStatus };
      },
      { shouldStop: () => stop },
    );
    expect(finished).toEqual(['t1']);
    await expect(
      runStudyLoop(port, async () => {
        throw new Error('the worker failed');
      }),
    ).rejects.toThrow('the worker failed');
    expect(finished).toEqual(['t1']);
  });
});
