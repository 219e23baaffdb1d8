import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { fitEnvelope, fitIsoflop, type Run, vertexInsideSizes } from './isoflop';
import { computeOptimal, exponents, predictLoss } from './parametric';

const law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

function isoflopGrid(seed: number, noise = 0.003, offsets = [-4, -3, -2, -1, 0, 1, 2, 3, 4]): Run[] {
  const random = new Random(seed);
  const runs: Run[] = [];
  for (const flops of [1e18, 3e18, 1e19, 3e19, 1e20, 3e20]) {
    const optimum = computeOptimal(law, flops);
    for (const k of offsets) {
      const params = Math.round(optimum.params * 2 ** (k / 2));
      const tokens = flops / (6 * params);
      runs.push({ params, tokens, loss: predictLoss(law, params, tokens) * Math.exp(noise * random.normal()) });
    }
  }
  return runs;
}

describe('approach 2 (IsoFLOP profiles)', () => {
  it("finds each budget's vertex near the true optimum and the law's exponents", () => {
    const fit = fitIsoflop(isoflopGrid(1), 200, 1);
    expect(fit).not.toBeNull();
    if (!fit) return;
    expect(fit.budgets).toHaveLength(6);
    const truth = exponents(law);
    expect(fit.a).toBeCloseTo(truth.a, 1);
    expect(fit.b).toBeCloseTo(truth.b, 1);
    expect(fit.aCi95[0]).toBeLessThan(fit.a);
    expect(fit.aCi95[1]).toBeGreaterThan(fit.a);
    for (const budget of fit.budgets) {
      const optimum = computeOptimal(law, budget.flops);
      expect(Math.abs(Math.log((budget.params as number) / optimum.params))).toBeLessThan(0.35);
      expect(budget.edge).toBeNull();
      const [low, high] = budget.paramsCi95 as [number, number];
      expect(low).toBeLessThan(high);
    }
  });

  it('flags a budget whose sizes missed the valley, and suggests the sizes to add', () => {
    const fit = fitIsoflop(isoflopGrid(2, 0.001, [1, 2, 3, 4, 5]), 50, 1);
    const budget = fit?.budgets[0];
    expect(budget?.edge).toBe('smaller');
    const smallest = Math.min(...(budget?.runs.map((r) => r.params) ?? []));
    expect(budget?.suggestedParams.every((n) => n < smallest)).toBe(true);
  });

  it('returns null when runs do not form IsoFLOP budgets', () => {
    expect(
      fitIsoflop([
        { params: 1e6, tokens: 1e8, loss: 3 },
        { params: 2e6, tokens: 3e9, loss: 2.5 },
      ]),
    ).toBeNull();
  });
});

describe('approach 1 (envelope)', () => {
  it('follows the optimal size up the compute axis', () => {
    // Each model's curve: loss after every tenth of its training.
    const points = [];
    for (const params of [1e7, 3e7, 1e8, 3e8, 1e9]) {
      for (let f = 1; f <= 40; f++) {
        const tokens = params * 2 * f;
        points.push({ flops: 6 * params * tokens, loss: predictLoss(law, params, tokens), params });
      }
    }
    const result = fitEnvelope(points);
    expect(result?.envelope.length).toBeGreaterThan(5);
    expect(result?.a).toBeGreaterThan(0.3);
    expect(result?.a).toBeLessThan(0.75);
  });
});

describe('vertexInsideSizes', () => {
  it('accepts a minimum between the sizes trained and refuses one the parabola extrapolates to', () => {
    const runs = [10, 20, 40].map((params) => ({ params, tokens: 1, loss: 1 }));
    expect(vertexInsideSizes({ params: 15, runs })).toBe(true);
    expect(vertexInsideSizes({ params: 1e-3, runs })).toBe(false);
    expect(vertexInsideSizes({ params: null, runs })).toBe(false);
  });
});
