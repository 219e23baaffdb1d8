import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import {
  allocate,
  bootstrapParametric,
  classifyRun,
  effectiveTokens,
  inferenceOptimal,
  overtrainingCost,
} from './frontier';
import { computeOptimal, fitParametric, type Observation, predictLoss } from './parametric';

const law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

function draw(seed: number): Observation[] {
  const random = new Random(seed);
  const runs: Observation[] = [];
  for (const flops of [1e18, 3e18, 1e19, 3e19, 1e20]) {
    const optimum = computeOptimal(law, flops);
    for (let k = -3; k <= 3; k++) {
      const n = optimum.params * 2 ** (k / 1.5);
      const d = flops / (6 * n);
      runs.push({ n, d, loss: predictLoss(law, n, d) * Math.exp(0.01 * random.normal()) });
    }
  }
  return runs;
}

describe('bootstrap intervals', () => {
  it('cover every parameter of a known law at least 90% of the time over 50 seeded draws (5 budgets x 6 sizes, 1% noise)', () => {
    const keys = ['E', 'A', 'B', 'alpha', 'beta', 'a', 'b'] as const;
    const truth = { ...law, a: law.beta / (law.alpha + law.beta), b: law.alpha / (law.alpha + law.beta) };
    const covered = Object.fromEntries(keys.map((key) => [key, 0])) as Record<(typeof keys)[number], number>;
    const draws = 50;
    for (let seed = 1; seed <= draws; seed++) {
      const random = new Random(1000 + seed);
      const data: Observation[] = [];
      const strata: number[] = [];
      [1e18, 3e18, 1e19, 3e19, 1e20].forEach((flops, budget) => {
        const optimum = computeOptimal(law, flops);
        for (let k = 0; k < 6; k++) {
          const n = optimum.params * 4 ** ((k - 2.5) / 2.5);
          const d = flops / (6 * n);
          data.push({ n, d, loss: predictLoss(law, n, d) * Math.exp(0.01 * random.normal()) });
          strata.push(budget);
        }
      });
      const fit = fitParametric(data);
      const { ci95 } = bootstrapParametric(data, fit, 200, seed, strata);
      for (const key of keys) if (ci95[key][0] <= truth[key] && truth[key] <= ci95[key][1]) covered[key]++;
    }
    console.log(
      `95% intervals covered the truth in ${draws} draws: ${keys.map((key) => `${key} ${((100 * covered[key]) / draws).toFixed(0)}%`).join(', ')}`,
    );
    for (const key of keys) expect(covered[key] / draws, key).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});

describe('intervals for a budget', () => {
  it('bracket the allocation and its predicted loss, which cover the true optimum loss', () => {
    const data = draw(3);
    const fit = fitParametric(data);
    const { laws } = bootstrapParametric(data, fit, 80, 3);
    const budget = 1e21;
    const allocation = allocate(fit, budget, laws);
    for (const [value, ci] of [
      [allocation.params, allocation.paramsCi95],
      [allocation.tokens, allocation.tokensCi95],
      [allocation.tokensPerParam, allocation.tokensPerParamCi95],
      [allocation.loss, allocation.lossCi95],
    ] as const) {
      const [low, high] = ci as [number, number];
      expect(low).toBeLessThanOrEqual(value);
      expect(high).toBeGreaterThanOrEqual(value);
      expect(high).toBeGreaterThan(low);
    }
    const [low, high] = allocation.lossCi95 as [number, number];
    const truth = computeOptimal(law, budget).loss;
    expect(low).toBeLessThanOrEqual(truth * 1.01);
    expect(high).toBeGreaterThanOrEqual(truth * 0.99);
    expect(allocate(fit, budget).lossCi95).toBeNull();
  }, 60_000);
});

describe('what the user gets', () => {
  it('allocates a budget: Chinchilla-like ~20 tokens per parameter near 1e23 FLOPs', () => {
    const allocation = allocate(law, 5.76e23);
    expect(allocation.params).toBeGreaterThan(2e10);
    expect(allocation.params).toBeLessThan(2e11);
    expect(allocation.tokensPerParam).toBeGreaterThan(5);
    expect(allocation.tokensPerParam).toBeLessThan(100);
    expect(6 * allocation.params * allocation.tokens).toBeCloseTo(5.76e23, -19);
  });

  it('classifies runs against the optimal tokens per parameter at their own budget', () => {
    const optimum = computeOptimal(law, 1e20);
    const at = (factor: number) => {
      const params = optimum.params / Math.sqrt(factor);
      return classifyRun(law, { params, tokens: 1e20 / (6 * params) });
    };
    expect(at(1).verdict).toBe('near-optimal');
    expect(at(10).verdict).toBe('over-trained');
    expect(at(10).ratio).toBeCloseTo(10, 5);
    expect(at(0.1).verdict).toBe('under-trained');
  });

  it('prices over-training: a smaller model needs more compute for the same loss', () => {
    expect(overtrainingCost(law, 1e21, 1)).toBeCloseTo(0, 6);
    const half = overtrainingCost(law, 1e21, 2);
    const quarter = overtrainingCost(law, 1e21, 4);
    expect(half).toBeGreaterThan(0);
    expect(quarter).toBeGreaterThan(half);
  });

  it('shrinks the model when inference dominates (Sardana et al.)', () => {
    const target = computeOptimal(law, 1e21).loss;
    const none = inferenceOptimal(law, target, 0);
    const heavy = inferenceOptimal(law, target, 1e13);
    expect(Math.abs(Math.log((none?.params as number) / computeOptimal(law, 1e21).params))).toBeLessThan(0.05);
    expect(heavy?.params).toBeLessThan((none?.params as number) / 2);
    expect(heavy?.tokens).toBeGreaterThan(none?.tokens as number);
  });

  it('discounts repeated data (Muennighoff et al.)', () => {
    expect(effectiveTokens(5e9, 1e10)).toBe(5e9);
    expect(effectiveTokens(4e10, 1e10)).toBeGreaterThan(3.5e10);
    expect(effectiveTokens(4e10, 1e10)).toBeLessThan(4e10);
    expect(effectiveTokens(1e13, 1e10)).toBeLessThan(1e10 * 17);
  });
});

describe('iso-loss contours', () => {
  it('lie on the law: every contour point predicts its level', async () => {
    const { isoLossContours, efficientFrontier } = await import('./contours');
    const contours = isoLossContours(law, [1e7, 1e11], [2.2, 2.5]);
    for (const contour of contours) {
      expect(contour.points.length).toBeGreaterThan(10);
      for (const p of contour.points) expect(predictLoss(law, p.x, p.y)).toBeCloseTo(contour.loss, 8);
    }
    // The frontier touches each contour at its compute-optimal point: no point on a contour costs less.
    const frontier = efficientFrontier(law, [1e18, 1e24]);
    expect(frontier.length).toBe(30);
  });
});
