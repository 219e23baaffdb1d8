import { describe, expect, it } from 'vitest';
import type { DatasetBenchRow } from './bench/datasets';
import { cli } from './cli-fixture';

// `isoflop bench --datasets` imports a generated text file and CSV and prints their speed against a raw read.
describe('isoflop bench --datasets', () => {
  it('times the text import and the CSV on reader threads and on the importing thread alone', async () => {
    const { code, out } = await cli('bench', '--datasets', '--size-mb', '3', '--json');
    expect(code).toBe(0);
    const rows = JSON.parse(out) as DatasetBenchRow[];
    expect(rows.map((row) => [row.what, row.readerThreads])).toEqual([
      ['text, byte-level', 0],
      [`CSV, ${rows[1]?.readerThreads} readers`, rows[1]?.readerThreads],
      ['CSV, 1 thread', 0],
    ]);
    expect(rows[1]?.readerThreads).toBeGreaterThanOrEqual(1);
    for (const row of rows) {
      expect(row.megabytes).toBeGreaterThan(2.9);
      expect(row.mbPerSecond).toBeCloseTo(row.megabytes / row.seconds, 6);
      expect(row.ratioToRawRead).toBeGreaterThan(0);
      expect(row.peakRssMb).toBeGreaterThan(0);
    }
    // Both CSV imports wrote as many bytes (table-lanes.test.ts checks that they are the same bytes).
    expect(rows[1]?.outputMegabytes).toBe(rows[2]?.outputMegabytes);
    const table = await cli('bench', '--datasets', '--size-mb', '3');
    expect(table.out).toMatch(/CSV read on \d+ reader threads \/ on the importing thread alone: \d+\.\d\dx/);
  }, 120_000);
});
