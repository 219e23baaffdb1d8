import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src-main/training/node-backends';
import type { DatasetManifest } from '../contract';
import { calibrateSpeed } from './calibrate';
import { estimateRunSeconds, planSweep } from './planner';
import { tf } from './tf';

beforeAll(async () => {
  await useNodeBackend('cpu');
});

describe('calibrateSpeed', () => {
  const dataset = (kind: 'table' | 'text') =>
    (kind === 'table'
      ? {
          kind,
          features: 12,
          task: 'classification',
          target: { classes: ['a', 'b', 'c'] },
          splits: { train: { rows: 100_000 }, val: { rows: 1000 }, test: { rows: 1000 } },
        }
      : {
          kind,
          tokenizer: { type: 'byte', vocabSize: 256 },
          splits: {
            train: { tokens: 1_000_000, uniqueTokens: 200 },
            val: { tokens: 10_000 },
            test: { tokens: 10_000 },
          },
        }) as unknown as DatasetManifest;

  it('times the plan’s smallest and largest models on their real shapes and gives every run an estimate', async () => {
    for (const kind of ['table', 'text'] as const) {
      const batchSize = kind === 'table' ? 64 : 4;
      const plan = planSweep({
        dataset: dataset(kind),
        budgets: kind === 'table' ? [1e7, 1e8] : [1e10],
        sizesPerBudget: 3,
        batchSize,
      });
      const tensorsBefore = tf.memory().numTensors;
      const speed = await calibrateSpeed(plan, batchSize, 0.5);
      // Nothing left behind on the backend.
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      expect(speed.backend).toBe('cpu');
      const params = plan.map((run) => run.params);
      expect(speed.timed.map((t) => t.params).sort((a, b) => a - b)).toEqual(
        [...new Set([Math.min(...params), Math.max(...params)])].sort((a, b) => a - b),
      );
      expect(speed.timed.every((t) => t.secondsPerStep > 0)).toBe(true);
      // The fitted line goes through the larger model's step time, and through the smaller's too unless
      // that would need a negative cost per step.
      const modelled = (t: (typeof speed.timed)[number]) =>
        speed.secondsPerStep + (speed.flopsPerSecond ? t.flopsPerStep / speed.flopsPerSecond : 0);
      const largest = speed.timed.at(-1) as (typeof speed.timed)[number];
      if (speed.flopsPerSecond === null)
        expect(speed.secondsPerStep).toBe(Math.max(...speed.timed.map((t) => t.secondsPerStep)));
      else expect(modelled(largest) / largest.secondsPerStep).toBeCloseTo(1, 6);
      const smallest = speed.timed[0] as (typeof speed.timed)[number];
      if (speed.flopsPerSecond !== null && speed.secondsPerStep > 0)
        expect(modelled(smallest) / smallest.secondsPerStep).toBeCloseTo(1, 6);
      for (const run of plan) expect(estimateRunSeconds(run, speed)).toBeGreaterThan(0);
    }
  }, 120_000);

  it('says so for an empty plan', async () => {
    await expect(calibrateSpeed([], 64)).rejects.toThrow('the plan has no runs');
  });
});
