import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, testFolder } from './cli-fixture';

describe('isoflop sweep --tune-lr', () => {
  it('searches each size’s learning rate first (a study per size), then trains each size at its best rate', async () => {
    const folder = testFolder();
    const data = join(folder.dir, 'data');
    const swept = await cli(
      'sweep',
      '--demo',
      'teacher',
      '--budgets',
      '1e6,3e6',
      '--sizes',
      '3',
      '--tune-lr',
      '--lr-grid',
      '3',
      '--backend',
      'cpu',
      '--store',
      data,
      '--json',
    );
    expect(swept.code, swept.err).toBe(0);
    const result = JSON.parse(swept.out);
    const sizes = [...new Set(result.runs.map((r: { params: number }) => r.params))];
    // One grid study per size, each of 3 trials around the MLP default of 1e-2.
    const studies = readdirSync(join(data, 'studies'));
    expect(studies).toHaveLength(sizes.length);
    expect(swept.err).toMatch(/Learning rate for .* parameters \(1\/\d\): 4\.0e-3, 1\.0e-2, 2\.5e-2/);
    const chosen = new Map<number, number>();
    for (const line of swept.err.matchAll(/^ {2}([\d,]+) parameters: peak learning rate ([\d.e+-]+) \(study/gm))
      chosen.set(Number((line[1] as string).replace(/,/g, '')), Number(line[2]));
    expect(chosen.size).toBe(sizes.length);
    for (const run of result.runs as Array<{ params: number; peakLearningRate: number; status: string }>) {
      expect(run.status).toBe('completed');
      expect(run.peakLearningRate).toBe(chosen.get(run.params));
      expect([4e-3, 1e-2, 2.5e-2]).toContain(run.peakLearningRate);
    }
    expect(
      (await cli('sweep', '--demo', 'teacher', '--budgets', '1e6', '--lr-grid', '3', '--store', data)).err,
    ).toMatch(/--lr-grid goes with --tune-lr/);
  }, 300_000);
});
