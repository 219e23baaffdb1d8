import { describe, expect, it } from 'vitest';
import { computeColors, isoflopProfileSeries } from './sweep-charts';

describe('IsoFLOP profile charts', () => {
  it("draws each budget's fitted parabola and marks its minimum where the sizes bracket it", () => {
    const bowl = (flops: number, best: number) => ({
      flops,
      runs: [best / 4, best / 2, best, best * 2, best * 4].map((params) => ({
        params,
        loss: 2 + 0.1 * Math.log(params / best) ** 2,
      })),
    });
    const edge = { flops: 1e9, runs: [10, 20, 40].map((params) => ({ params, loss: 3 - Math.log(params) / 10 })) };
    const series = isoflopProfileSeries([bowl(1e7, 1000), bowl(1e8, 3000), edge]);
    const minima = series.find((s) => s.label === 'minimum of each fitted parabola');
    // The two bowls' minima, at their true sizes; the monotone budget has none inside its sizes.
    expect(minima?.points.map((p) => Math.round(p.x))).toEqual([1000, 3000]);
    expect(minima?.points.every((p) => Math.abs(p.y - 2) < 1e-9)).toBe(true);
    expect(series.filter((s) => s.kind === 'points' && s.label.endsWith('FLOPs')).map((s) => s.label)).toEqual([
      '1e7 FLOPs',
      '1e8 FLOPs',
      '1e9 FLOPs',
    ]);
    // Smallest budget darkest, largest lightest.
    expect(series[0]?.color).toBe(computeColors[0]);
    expect(series.find((s) => s.label === '1e9 FLOPs')?.color).toBe(computeColors.at(-1));
  });

  it('joins budgets with fewer than 3 sizes by a dashed line, fitting no parabola', () => {
    const series = isoflopProfileSeries([
      {
        flops: 1e6,
        runs: [
          { params: 10, loss: 1 },
          { params: 20, loss: 0.9 },
        ],
      },
    ]);
    expect(series.map((s) => [s.kind, s.dashed ?? false])).toEqual([
      ['points', false],
      ['line', true],
    ]);
  });
});
