import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { detectOverfitting, type LossPoint } from './overfit';

/** Synthetic learning curves: `val(t)` and `train(t)` over 60 evaluations, with optional noise. */
function curve(train: (t: number) => number, val: (t: number) => number, noise = 0, seed = 1): LossPoint[] {
  const random = new Random(seed);
  return Array.from({ length: 60 }, (_, i) => {
    const t = i / 59;
    return {
      step: (i + 1) * 100,
      trainLoss: train(t) * (1 + noise * random.normal()),
      valLoss: val(t) * (1 + noise * random.normal()),
    };
  });
}

const falling = (t: number) => 0.2 + 1.8 * Math.exp(-5 * t);

describe('over-fitting detector', () => {
  it('stays quiet on a clean curve where both losses fall', () => {
    expect(detectOverfitting(curve(falling, (t) => falling(t) + 0.05)).overfitting).toBe(false);
  });

  it('stays quiet on noise around a plateau', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const plateau = curve(falling, () => 0.6, 0.003, seed);
      expect(detectOverfitting(plateau).overfitting, `seed ${seed}`).toBe(false);
    }
  });

  it('fires when validation rises while training keeps falling, and says where it began', () => {
    const valley = (t: number) => 0.5 + 2 * (t - 0.4) ** 2;
    const verdict = detectOverfitting(curve((t) => 2 * Math.exp(-4 * t), valley, 0.002));
    expect(verdict.overfitting).toBe(true);
    expect(verdict.beganAt).toBeGreaterThan(2000);
    expect(verdict.beganAt).toBeLessThan(3000);
  });

  it('does not fire when both losses rise together (a bad learning rate, not memorisation)', () => {
    const rising = (t: number) => 0.5 + t;
    expect(detectOverfitting(curve(rising, (t) => rising(t) + 0.1)).overfitting).toBe(false);
  });

  it('does not fire on the bump of a double descent that recovers within the patience', () => {
    const bump = (t: number) => 0.8 - 0.3 * t + (Math.abs(t - 0.5) < 0.02 ? 0.05 : 0);
    expect(detectOverfitting(curve(falling, bump)).overfitting).toBe(false);
  });

  it('reports the generalization gap at every evaluation', () => {
    const verdict = detectOverfitting(curve(falling, (t) => falling(t) + 0.1));
    expect(verdict.gap).toHaveLength(60);
    expect(verdict.gap[10]?.gap).toBeCloseTo(0.1, 10);
  });
});
