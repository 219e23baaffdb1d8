import { describe, expect, it } from 'vitest';
import { chartFrame, invertX, renderChart, tickLabel, ticks } from './svg';

describe('chart renderer', () => {
  it('labels ticks compactly on linear axes and as powers of ten on log axes', () => {
    expect([20_000, 1_500_000, 2e9, 5, 0.25, 0.002, -30_000].map((v) => tickLabel(v, false))).toEqual([
      '20k',
      '1.5M',
      '2G',
      '5',
      '0.25',
      '2.0e-3',
      '-30k',
    ]);
    expect([1e15, 3e9].map((v) => tickLabel(v, true))).toEqual(['1e15', '3e9']);
  });

  it('zooms: the x-range sets the domain, the y-range fits the points inside it, lines are clipped', () => {
    const points = Array.from({ length: 100 }, (_, i) => ({ x: i + 1, y: i < 50 ? 10 : 1 + i / 100 }));
    const spec = {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      xLog: false,
      series: [{ label: 'a', color: '#000', kind: 'line' as const, points }],
    };
    const frame = chartFrame({ ...spec, xRange: [60, 90] });
    expect(frame.xDomain).toEqual([60, 90]);
    expect(frame.yDomain[1]).toBeLessThan(2.1);
    const { margin, width } = frame;
    expect(invertX(frame, margin.left)).toBeCloseTo(60, 9);
    expect(invertX(frame, width - margin.right)).toBeCloseTo(90, 9);
    expect(renderChart({ ...spec, xRange: [60, 90] })).toMatch(/<clipPath id="isoflop-clip-\d+">/);
    expect(renderChart(spec)).not.toContain('clipPath');
  });
});

describe('axis ticks', () => {
  it('stays finite for values one rounding step apart, and for ranges far from zero', () => {
    const near = 11_700_633_600;
    const spec = {
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      xLog: false,
      series: [
        {
          label: 'a',
          color: '#000',
          kind: 'points' as const,
          points: [
            { x: near, y: 1 },
            { x: near + 2e-6, y: 1 },
          ],
        },
      ],
    };
    const frame = chartFrame(spec);
    const xs = ticks(frame.xDomain, false);
    expect(xs.length).toBeGreaterThan(1);
    expect(xs.length).toBeLessThanOrEqual(13);
    expect(renderChart(spec)).toContain('<svg');
    expect(ticks([1e16, 1e16 + 8], false).length).toBeLessThanOrEqual(13);
  });
});
