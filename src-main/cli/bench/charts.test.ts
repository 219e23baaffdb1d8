import { describe, expect, it } from 'vitest';
import { benchCharts } from './charts';

describe('isoflop bench --charts', () => {
  it('draws the same run every way and reports what each drew (figures are printed, not asserted)', async () => {
    const rows = await benchCharts(5000, () => undefined);
    expect(rows.map((row) => row.what)).toEqual([
      'empty chart (frame floor)',
      'every point, raw',
      'smoothed + min/max sampled',
      'zoomed to 5%, resampled',
    ]);
    const [, raw, sampled, zoomed] = rows as [
      unknown,
      (typeof rows)[number],
      (typeof rows)[number],
      (typeof rows)[number],
    ];
    expect(raw.drawnPoints).toBe(5050);
    expect(sampled.drawnPoints).toBeLessThanOrEqual(3 * 1200);
    expect(sampled.svgKilobytes).toBeLessThan(raw.svgKilobytes);
    expect(zoomed.drawnPoints).toBeLessThan(sampled.drawnPoints);
    for (const row of rows) expect(row.buildMs).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
