import { describe, expect, it } from 'vitest';
import { axisTicks, chartFrame, invertX, readout, renderChart } from './svg';

describe('chart renderer', () => {
  const labels = (domain: [number, number], log = false) => axisTicks(domain, log).map((t) => t.label);

  it('labels linear ticks with the digits their step needs, the same form along the axis', () => {
    expect(labels([0, 2_000_000])).toEqual(['0', '0.5M', '1M', '1.5M', '2M']);
    expect(labels([1_000_000, 2_000_000])).toEqual(['1M', '1.2M', '1.4M', '1.6M', '1.8M', '2M']);
    expect(labels([0.0015, 0.0045])).toEqual(['0.0015', '0.0020', '0.0025', '0.0030', '0.0035', '0.0040', '0.0045']);
    expect(labels([-30_000, 30_000])).toEqual(['-30k', '-20k', '-10k', '0', '10k', '20k', '30k']);
    expect(labels([2.0e-6, 3.1e-6])).toEqual(['2.0e-6', '2.2e-6', '2.4e-6', '2.6e-6', '2.8e-6', '3.0e-6']);
    // A learning rate that decays from 1e-2 to just under it: every label distinct, one form.
    const lr = labels([0.0098, 0.01]);
    expect(new Set(lr).size).toBe(lr.length);
    expect(lr.every((l) => /^0\.\d+$/.test(l))).toBe(true);
  });

  it('labels log axes by decade, with 2 and 5 between short spans, and steps within less than a decade', () => {
    expect(labels([12, 16], true)).toEqual(['1e12', '1e13', '1e14', '1e15', '1e16']);
    expect(labels([15, 16], true)).toEqual(['1e15', '2e15', '5e15', '1e16']);
    expect(labels([3, 5.2], true)).toEqual(['1e3', '1e4', '1e5']);
    expect(labels([Math.log10(0.002), Math.log10(0.03)], true)).toEqual(['2e-3', '5e-3', '1e-2', '2e-2']);
    // Losses between 2.1 and 2.6 on log y: linear steps in data units rather than one lone mark.
    const loss = axisTicks([Math.log10(2.1), Math.log10(2.6)], true);
    expect(loss.length).toBeGreaterThanOrEqual(3);
    expect(loss.map((t) => t.label)).toContain('2.4');
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
    const xs = axisTicks(frame.xDomain, false);
    expect(xs.length).toBeGreaterThan(1);
    expect(xs.length).toBeLessThanOrEqual(13);
    expect(renderChart(spec)).toContain('<svg');
    expect(axisTicks([1e16, 1e16 + 8], false).length).toBeLessThanOrEqual(13);
  });
});

describe('hover read-out', () => {
  const spec = {
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    xLog: false,
    series: [
      {
        label: 'train',
        color: '#111',
        kind: 'line' as const,
        points: [0, 10, 20, 30].map((x) => ({ x, y: 5 - x / 10 })),
      },
      { label: '', color: '#111', kind: 'line' as const, opacity: 0.25, points: [{ x: 10, y: 9 }] },
      { label: 'val', color: '#222', kind: 'line' as const, points: [0, 15, 30].map((x) => ({ x, y: 6 - x / 10 })) },
      { label: 'runs', color: '#333', kind: 'points' as const, points: [{ x: 21, y: 1 }] },
    ],
  };

  it("names each labelled curve's value nearest the pointer, leaving out faded raw curves", () => {
    const frame = chartFrame(spec);
    // The middle of the plot is x = 15.
    const r = readout(spec, (frame.margin.left + frame.width - frame.margin.right) / 2, frame.height / 2);
    expect(r?.rows.map((row) => row.label)).toEqual(['train', 'val']);
    expect(r?.rows[1]?.y).toBeCloseTo(4.5, 9);
    expect(r?.x).toBeCloseTo(15, 6);
  });

  it('adds the nearest point only within reach, and nothing off the plot', () => {
    const frame = chartFrame(spec);
    const px = (x: number) =>
      frame.margin.left +
      ((x - frame.xDomain[0]) / (frame.xDomain[1] - frame.xDomain[0])) *
        (frame.width - frame.margin.left - frame.margin.right);
    const py = (y: number) =>
      frame.height -
      frame.margin.bottom -
      ((y - frame.yDomain[0]) / (frame.yDomain[1] - frame.yDomain[0])) *
        (frame.height - frame.margin.top - frame.margin.bottom);
    expect(readout(spec, px(21), py(1))?.rows.at(-1)).toMatchObject({ label: 'runs', x: 21, y: 1 });
    expect(readout(spec, px(21), py(4))?.rows.some((row) => row.label === 'runs')).toBe(false);
    expect(readout(spec, 2, py(1))).toBeNull();
  });
});
