import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, testFolder } from './cli-fixture';

/**
 * The teacher demo's promise: its noise floor is known exactly, and a sweep at small budgets (minutes
 * on a CPU) fits an irreducible loss E close to it. Twenty real runs on the CPU backend.
 */
describe('a sweep on the teacher demo', () => {
  it('fits E within 20% of the known noise floor at 1e7–3e8 FLOPs, and the report states the floor beside the fit', async () => {
    const folder = testFolder();
    const data = join(folder.dir, 'data');
    const swept = await cli(
      'sweep',
      '--demo',
      'teacher',
      '--budgets',
      '1e7,3e7,1e8,3e8',
      '--sizes',
      '5',
      '--backend',
      'cpu',
      '--store',
      data,
      '--json',
    );
    expect(swept.code, swept.err).toBe(0);
    const result = JSON.parse(swept.out);
    expect(result.runs.filter((r: { status: string }) => r.status === 'completed')).toHaveLength(20);
    expect(result.fit.knownFloor).toEqual({ loss: 0.09, kind: 'noise' });
    const floor = 0.09;
    const E = result.fit.law.E as number;
    expect(Math.abs(E - floor) / floor).toBeLessThan(0.2);
    // Its 95% interval covers the floor.
    expect(result.fit.ci95.E[0]).toBeLessThanOrEqual(floor);
    expect(result.fit.ci95.E[1]).toBeGreaterThanOrEqual(floor);

    // A valley, not a slope: at the largest budget the best run is neither the smallest nor the largest model.
    const largest = result.runs
      .filter((r: { budgetFlops: number }) => r.budgetFlops === 3e8)
      .sort((a: { params: number }, b: { params: number }) => a.params - b.params);
    const losses = largest.map((r: { valLoss: number }) => r.valLoss);
    const best = losses.indexOf(Math.min(...losses));
    expect(best).toBeGreaterThan(0);
    expect(best).toBeLessThan(losses.length - 1);

    const out = join(folder.dir, 'report.json');
    const reported = await cli('report', '--sweep', result.sweepId, '--format', 'json', '--out', out, '--store', data);
    expect(reported.code, reported.err).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.dataset.irreducibleLoss).toBe(0.09);
    const off = (Math.abs(report.fit.E - floor) / floor) * 100;
    expect(report.summary).toContain(`the data's known noise floor is 0.09: E is ${off.toFixed(1)}%`);
    const fitted = await cli('fit', result.sweepId, '--store', data, '--bootstrap', '20', '--holdout-largest');
    expect(fitted.out).toMatch(/E .*the data's known noise floor is 0\.09: E is [\d.]+% (above|below) it/);
    // Every run in approach 2, grouped by the sweep's own budgets; the three approaches; a backtest.
    expect(fitted.out).toMatch(/IsoFLOP profiles \(4 budgets, grouped by planned budget\)/);
    expect(fitted.out).toMatch(/^ {2}2 {2}a = .*IsoFLOP profiles \(4 budgets, 20 of 20 runs, by planned budget\)$/m);
    expect(fitted.out).toMatch(/^ {2}1 {2}a = /m);
    expect(fitted.out).toMatch(/^ {2}3 {2}a = /m);
    expect(fitted.out).toMatch(
      /^Backtest \(fitted on 1\.00e\+7, 3\.00e\+7, 1\.00e\+8 FLOPs, held out 3\.00e\+8\): loss error [\d.]+%/m,
    );
  }, 600_000);
});
