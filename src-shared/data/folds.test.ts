import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { assignFolds, foldBand, foldRows, meanStd } from './folds';

describe('k-fold cross-validation', () => {
  it('deals every row to one fold, with sizes within one row, the same way for the same seed', () => {
    const folds = assignFolds(103, 5, 9, null);
    const sizes = [0, 1, 2, 3, 4].map((f) => folds.filter((x) => x === f).length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(103);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(assignFolds(103, 5, 9, null)).toEqual(folds);
    expect(assignFolds(103, 5, 10, null)).not.toEqual(folds);
  });

  it('stratifies: a rare class is spread over the folds in proportion', () => {
    const random = new Random(3);
    const labels = Array.from({ length: 1000 }, () => (random.next() < 0.1 ? 1 : 0));
    const rare = labels.filter((l) => l === 1).length;
    const folds = assignFolds(labels.length, 5, 1, labels);
    for (let f = 0; f < 5; f++) {
      const inFold = labels.filter((l, r) => folds[r] === f && l === 1).length;
      expect(Math.abs(inFold - rare / 5)).toBeLessThanOrEqual(1);
    }
  });

  it('refuses more folds than rows, and fewer than two', () => {
    expect(() => assignFolds(3, 5, 1, null)).toThrow('k = 5 folds need at least 5 rows; there are 3');
    expect(() => assignFolds(30, 1, 1, null)).toThrow('k must be a whole number from 2 to 255');
  });

  it("splits rows into a fold's validation rows and the rest, keeping each row whole", () => {
    const rows = Float32Array.from({ length: 10 * 3 }, (_, i) => i);
    const folds = assignFolds(10, 2, 4, null);
    const { train, val } = foldRows(rows, 3, folds, 1);
    expect(train.length + val.length).toBe(30);
    for (let r = 0; r < val.length / 3; r++) {
      const first = val[r * 3] as number;
      expect(first % 3).toBe(0);
      expect(folds[first / 3]).toBe(1);
      expect(val[r * 3 + 2]).toBe(first + 2);
    }
  });

  it('summarises fold curves as mean and sample std at the steps all folds reported', () => {
    const band = foldBand([
      [
        { step: 10, value: 1 },
        { step: 20, value: 2 },
      ],
      [
        { step: 10, value: 3 },
        { step: 20, value: 4 },
        { step: 30, value: 9 },
      ],
    ]);
    expect(band.map((b) => b.step)).toEqual([10, 20]);
    expect(band[0]).toEqual({ step: 10, mean: 2, std: Math.SQRT2 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
  });
});
