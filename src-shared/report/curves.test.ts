import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { downsampleMinMax, smoothEma } from './curves';

const line = (ys: number[]) => ys.map((y, x) => ({ x, y }));

describe('smoothEma', () => {
  it('is debiased: a constant curve stays constant from the first point', () => {
    const smoothed = smoothEma(line([3, 3, 3, 3]), 0.9);
    for (const point of smoothed) expect(point.y).toBeCloseTo(3, 12);
  });

  it('follows the trend of a noisy curve more closely than the raw points do', () => {
    const random = new Random(2);
    const trend = (x: number) => 4 / Math.sqrt(1 + x / 10);
    const raw = Array.from({ length: 400 }, (_, x) => ({ x, y: trend(x) + 0.2 * random.normal() }));
    const smoothed = smoothEma(raw, 0.9);
    const error = (points: typeof raw) =>
      points.slice(50).reduce((sum, p) => sum + (p.y - trend(p.x)) ** 2, 0) / (points.length - 50);
    expect(error(smoothed)).toBeLessThan(error(raw) / 4);
    expect(smoothEma(raw, 0)).toBe(raw);
  });

  it('lets a non-finite value through without poisoning what follows', () => {
    const smoothed = smoothEma(line([1, Number.NaN, 1]), 0.5);
    expect(smoothed[1]?.y).toBeNaN();
    expect(smoothed[2]?.y).toBeCloseTo(1, 12);
  });
});

describe('downsampleMinMax', () => {
  const random = new Random(9);
  const noisy = line(Array.from({ length: 100_000 }, (_, x) => Math.exp(-x / 30_000) + 0.05 * random.normal()));

  it('keeps the ends, the global minimum and maximum, and stays within the budget', () => {
    const out = downsampleMinMax(noisy, 1000);
    expect(out.length).toBeLessThanOrEqual(1000);
    expect(out.length).toBeGreaterThan(900);
    expect(out[0]).toBe(noisy[0]);
    expect(out[out.length - 1]).toBe(noisy[noisy.length - 1]);
    const ys = noisy.map((p) => p.y);
    const kept = out.map((p) => p.y);
    expect(Math.min(...kept)).toBe(Math.min(...ys));
    expect(Math.max(...kept)).toBe(Math.max(...ys));
    for (let i = 1; i < out.length; i++)
      expect((out[i] as { x: number }).x).toBeGreaterThan((out[i - 1] as { x: number }).x);
  });

  it('samples after the x-range: a zoomed view gets every point back, plus one beyond each edge', () => {
    const zoomed = downsampleMinMax(noisy, 1000, [5000, 5400]);
    expect(zoomed.map((p) => p.x)).toEqual(Array.from({ length: 403 }, (_, i) => 4999 + i));
    expect(downsampleMinMax(line([1, 2, 3]), 1000)).toHaveLength(3);
  });
});
