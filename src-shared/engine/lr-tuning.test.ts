import { describe, expect, it } from 'vitest';
import type { DatasetManifest } from '../contract';
import {
  applyLearningRates,
  chooseLearningRate,
  defaultLearningRate,
  learningRateGrid,
  learningRateTasks,
} from './lr-tuning';
import { planSweep } from './planner';

const corpus = {
  kind: 'text',
  tokenizer: { type: 'byte', vocabSize: 256, file: null, trainedOnBytes: null },
  splits: { train: { tokens: 5_000_000 }, val: { tokens: 250_000 }, test: { tokens: 250_000 } },
} as unknown as DatasetManifest;

describe('per-size learning rates', () => {
  it('searches a log grid centred on the default, 2.5x apart', () => {
    expect(learningRateGrid(3e-3, 5)).toEqual([4.8e-4, 1.2e-3, 3e-3, 7.5e-3, 1.87e-2]);
    expect(learningRateGrid(1e-2, 3)).toEqual([4e-3, 1e-2, 2.5e-2]);
  });

  it('plans one search per size, as long as the smallest budget buys it (at least 50 steps, at most its own run)', () => {
    const plan = planSweep({ dataset: corpus, budgets: [1e11, 1e12], sizesPerBudget: 4, batchSize: 16 });
    const tasks = learningRateTasks(plan, 16, 5);
    expect(tasks.map((t) => t.params)).toEqual([...new Set(plan.map((run) => run.params))].sort((a, b) => a - b));
    for (const task of tasks) {
      const own = plan.filter((run) => run.params === task.params);
      expect(task.steps).toBeLessThanOrEqual(Math.max(...own.map((run) => run.steps)));
      expect(task.steps).toBeGreaterThanOrEqual(Math.min(50, ...own.map((run) => run.steps)));
      expect(task.rates).toHaveLength(5);
      expect(task.rates[2]).toBe(defaultLearningRate('gpt'));
    }
    // The smallest size at the smallest budget searches at exactly the steps its sweep run will take.
    const first = plan.filter((run) => run.budgetFlops === 1e11)[0];
    expect(tasks[0]?.steps).toBe(first?.steps);
  });

  it('keeps the best rate, says when it sits at the edge of the grid, and puts it in the plan', () => {
    const plan = planSweep({ dataset: corpus, budgets: [1e11], sizesPerBudget: 3, batchSize: 16 });
    const [task] = learningRateTasks(plan, 16, 3);
    if (!task) throw new Error('no task');
    const inside = chooseLearningRate(task, 'study-x', [
      { learningRate: 1.2e-3, value: 2.1 },
      { learningRate: 3e-3, value: 1.9 },
      { learningRate: 7.5e-3, value: null },
    ]);
    expect(inside).toMatchObject({ learningRate: 3e-3, atEdge: false, studyId: 'study-x' });
    const edge = chooseLearningRate(task, 'study-x', [
      { learningRate: 1.2e-3, value: 2.1 },
      { learningRate: 7.5e-3, value: 1.8 },
    ]);
    expect(edge?.atEdge).toBe(true);
    expect(chooseLearningRate(task, 'study-x', [{ learningRate: 3e-3, value: null }])).toBeNull();
    const tuned = applyLearningRates(plan, [{ params: task.params, learningRate: 7.5e-3 }]);
    expect(tuned.filter((run) => run.params === task.params).every((run) => run.learningRate === 7.5e-3)).toBe(true);
    expect(tuned.filter((run) => run.params !== task.params).every((run) => run.learningRate === undefined)).toBe(true);
  });
});
