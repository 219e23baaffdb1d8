import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import {
  gamma,
  gridPoint,
  gridPoints,
  gridSize,
  maxGridPoints,
  type Space,
  sampleRandom,
  sampleTpe,
  type Trial,
  validateSpace,
} from './search';

const space: Space = { x: { type: 'float', min: -5, max: 5 }, y: { type: 'float', min: -5, max: 5 } };
const quadratic = (p: Record<string, number | string>) => ((p.x as number) - 1.3) ** 2 + ((p.y as number) + 2.1) ** 2;

function study(sampler: 'random' | 'tpe', seed: number, n = 50): number {
  const random = new Random(seed);
  const trials: Trial[] = [];
  for (let i = 0; i < n; i++) {
    const params = sampler === 'tpe' ? sampleTpe(space, trials, random) : sampleRandom(space, random);
    trials.push({ params, value: quadratic(params) });
  }
  return Math.min(...trials.map((t) => t.value));
}

describe('hyper-parameter samplers', () => {
  it('TPE beats random search on a 2-D quadratic over 50 trials, on average over seeds', () => {
    let tpe = 0;
    let random = 0;
    for (let seed = 1; seed <= 20; seed++) {
      tpe += study('tpe', seed);
      random += study('random', seed);
    }
    expect(tpe / 20).toBeLessThan(random / 20);
  });

  it("uses Optuna's γ(n) = min(⌈0.1 n⌉, 25)", () => {
    expect(gamma(10)).toBe(1);
    expect(gamma(11)).toBe(2);
    expect(gamma(1000)).toBe(25);
  });

  it('grids every combination, log dimensions on a log scale, choices as given', () => {
    const points = gridPoints(
      { lr: { type: 'log', min: 1e-4, max: 1e-2 }, width: { type: 'choice', values: [16, 32] } },
      3,
    );
    expect(points).toHaveLength(6);
    expect(
      points
        .map((p) => p.lr as number)
        .slice(0, 3)
        .map((v) => Number(v.toPrecision(6))),
    ).toEqual([1e-4, 1e-4, 1e-3]);
  });

  it('counts a grid without building it, and computes its n-th point directly', () => {
    const space: Space = {
      lr: { type: 'log', min: 1e-4, max: 1e-2 },
      width: { type: 'choice', values: [16, 32, 64] },
      depth: { type: 'int', min: 1, max: 3 },
    };
    expect(gridSize(space)).toBe(27);
    const all = gridPoints(space);
    expect(all.map((_, i) => gridPoint(space, i))).toEqual(all);
    expect(new Set(all.map((p) => JSON.stringify(p))).size).toBe(27);
    // Ten dimensions of ten values: 10^10 points, counted at once; point 10^10 - 1 is the last of each.
    const huge: Space = Object.fromEntries(
      Array.from({ length: 10 }, (_, d) => [
        `p${d}`,
        { type: 'choice', values: Array.from({ length: 10 }, (_, i) => i) },
      ]),
    );
    expect(gridSize(huge)).toBe(1e10);
    expect(Object.values(gridPoint(huge, 1e10 - 1))).toEqual(Array(10).fill(9));
    expect(() => gridPoints(huge)).toThrow(`more than ${maxGridPoints}`);
  });

  it('refuses empty ranges and non-positive learning rates before anything trains', () => {
    expect(() => validateSpace({})).toThrow(/empty/);
    expect(() => validateSpace({ width: { type: 'int', min: 8, max: 8 } })).toThrow(/"width" has an empty range/);
    expect(() => validateSpace({ learningRate: { type: 'float', min: -1, max: 1 } })).toThrow(
      /"learningRate" must be positive/,
    );
    expect(() => validateSpace({ learningRate: { type: 'log', min: 0, max: 1 } })).toThrow(/above 0/);
  });

  it('TPE spreads trials proposed side by side: those still running count as bad (constant liar)', () => {
    // Four trials proposed at once after 20 finished ones, each from its own seed, as four processes of
    // `tune --jobs 4` would: with the earlier ones pending they lie further apart than proposed blind.
    const spread = (withPending: boolean) => {
      let total = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const random = new Random(seed);
        const finished: Trial[] = [];
        for (let i = 0; i < 20; i++) {
          const params = sampleRandom(space, random);
          finished.push({ params, value: quadratic(params) });
        }
        const batch: Array<Record<string, number | string>> = [];
        for (let k = 0; k < 4; k++)
          batch.push(sampleTpe(space, finished, new Random(seed * 100 + k), withPending ? batch : []));
        for (let a = 0; a < 4; a++)
          for (let b = a + 1; b < 4; b++)
            total += Math.hypot(
              (batch[a]?.x as number) - (batch[b]?.x as number),
              (batch[a]?.y as number) - (batch[b]?.y as number),
            );
      }
      return total / (20 * 6);
    };
    const blind = spread(false);
    const liar = spread(true);
    expect(liar).toBeGreaterThan(2 * blind);
  });
});
