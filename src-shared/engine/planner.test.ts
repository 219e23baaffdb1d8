import { describe, expect, it } from 'vitest';
import type { DatasetManifest, RunRecord } from '../contract';
import { estimateRunSeconds, measuredThroughput, planSweep } from './planner';

function run(
  family: 'mlp' | 'gpt',
  backend: 'webgl' | 'wasm',
  step: number,
  flops: number,
  wallSeconds: number,
  status = 'completed',
) {
  return {
    status,
    config: { model: { family } },
    environment: { backend, adapter: null, platform: 'test', appVersion: '0' },
    result: { step, flops, wallSeconds },
  } as unknown as RunRecord;
}

describe('measuredThroughput', () => {
  it('recovers the per-step cost and the FLOP rate that produced the runs, per backend and family', () => {
    // webgl: 0.5 s a run, 2 ms a step, 1 GFLOP/s; the sizes vary so all three terms show.
    const truth = (steps: number, flops: number) => 0.5 + 0.002 * steps + flops / 1e9;
    const runs = [
      [1000, 1e8],
      [300, 3e9],
      [100, 2e10],
      [2000, 5e8],
    ].map(([steps, flops]) =>
      run('mlp', 'webgl', steps as number, flops as number, truth(steps as number, flops as number)),
    );
    runs.push(
      run('mlp', 'wasm', 100, 1e9, 10),
      run('gpt', 'webgl', 10, 1e12, 1),
      run('mlp', 'webgl', 10, 1e9, 1, 'failed'),
    );
    const [webgl, wasm] = measuredThroughput(runs, 'mlp');
    expect(webgl?.backend).toBe('webgl');
    expect(webgl?.runs).toBe(4);
    expect(webgl?.secondsPerRun).toBeCloseTo(0.5, 6);
    expect(webgl?.secondsPerStep).toBeCloseTo(0.002, 6);
    expect(webgl?.flopsPerSecond).toBeCloseTo(1e9, -3);
    expect(estimateRunSeconds({ steps: 500, budgetFlops: 4e9 }, webgl as NonNullable<typeof webgl>)).toBeCloseTo(
      5.5,
      4,
    );
    // One run: a single term explains it exactly.
    expect(wasm?.runs).toBe(1);
    expect(estimateRunSeconds({ steps: 100, budgetFlops: 1e9 }, wasm as NonNullable<typeof wasm>)).toBeCloseTo(10, 6);
    expect(measuredThroughput(runs, 'gpt')).toHaveLength(1);
    expect(measuredThroughput([], 'mlp')).toEqual([]);
  });
});

describe('planSweep warnings', () => {
  // What the planner reads of a table's manifest: its size, features and task.
  const table = (rows: number) =>
    ({
      kind: 'table',
      features: 16,
      task: 'regression',
      target: { classes: null },
      splits: { train: { rows }, val: { rows: 10 }, test: { rows: 10 } },
    }) as unknown as DatasetManifest;

  it('warns of repetition, of models too large for the dataset, and of models too small for the budget', () => {
    const small = planSweep({ dataset: table(256), budgets: [1e9], sizesPerBudget: 5, batchSize: 64 });
    const warnings = small.map((run) => run.warnings.join('; '));
    expect(warnings.every((w) => w.includes('repeats the training data'))).toBe(true);
    const large = small.filter((run) => run.params > 256);
    expect(large.length).toBeGreaterThan(0);
    for (const run of small) {
      expect(run.warnings.some((w) => w.includes('too large for this dataset'))).toBe(run.params > 256);
    }
    const big = planSweep({ dataset: table(10_000_000), budgets: [1e11], sizesPerBudget: 7, batchSize: 64 });
    for (const run of big) {
      expect(run.warnings.some((w) => w.includes('very small for this budget'))).toBe(run.tokensPerParam > 10_000);
      expect(run.warnings.some((w) => w.includes('repeats'))).toBe(run.epochs > 4);
    }
    expect(big.some((run) => run.tokensPerParam > 10_000)).toBe(true);
    expect(big.some((run) => run.warnings.length === 0)).toBe(true);
  });
});

describe('the size ladder of a sweep plan', () => {
  const corpus = (vocabSize: number) =>
    ({
      kind: 'text',
      tokenizer: { type: vocabSize > 256 ? 'bpe' : 'byte', vocabSize, file: null, trainedOnBytes: null },
      splits: { train: { tokens: 3_000_000 }, val: { tokens: 150_000 }, test: { tokens: 150_000 } },
    }) as unknown as DatasetManifest;

  it('keeps the sizes asked for, spread in log N and none a near-duplicate, whatever the vocabulary', () => {
    for (const vocabSize of [256, 4096, 32768]) {
      for (const budget of [1e12, 1e13]) {
        const plan = planSweep({ dataset: corpus(vocabSize), budgets: [budget], sizesPerBudget: 5, batchSize: 16 });
        const sizes = plan.map((run) => run.params);
        expect(sizes, `vocabulary ${vocabSize} at ${budget}`).toHaveLength(5);
        for (let i = 1; i < sizes.length; i++)
          expect((sizes[i] as number) / (sizes[i - 1] as number)).toBeGreaterThanOrEqual(1.3);
        // Depth varies too, not only width.
        const depths = new Set(plan.map((run) => (run.model.family === 'gpt' ? run.model.nLayers : 0)));
        if (vocabSize === 256) expect(depths.size).toBeGreaterThan(1);
      }
    }
  });

  it('plans the teacher-demo ladder of DESIGN.md: tiny MLPs up to thousands of parameters', () => {
    const table = {
      kind: 'table',
      task: 'regression',
      features: 16,
      target: { classes: null },
      splits: { train: { rows: 160_000 }, val: { rows: 20_000 }, test: { rows: 20_000 } },
    } as unknown as DatasetManifest;
    const plan = planSweep({ dataset: table, budgets: [1e8], sizesPerBudget: 7, batchSize: 64 });
    expect(plan).toHaveLength(7);
    expect(plan[0]?.params).toBeLessThan(100);
    expect(plan.at(-1)?.params).toBeGreaterThan(1000);
  });
});
