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

/**
 * The language demo's path at tiny size: a GPT sweep whose 6·N·D falls well short of its planned budgets,
 * fitted as a user would. Its known answer (E identified below the entropy bound, a ≈ 0.5) needs 1e12–1e13
 * FLOPs, an hour and a half on 2 cores (README); here, every run must reach approach 2 by its planned budget,
 * the three approaches and a backtest must print, and whatever the fit cannot pin down must be said.
 */
describe('a sweep on the language demo', () => {
  it('groups every GPT run by its planned budget, prints the three approaches and a backtest, and says E is not identified this small', async () => {
    const folder = testFolder();
    const data = join(folder.dir, 'data');
    const swept = await cli(
      'sweep',
      '--demo',
      'language',
      '--budgets',
      '1e10,3e10,1e11',
      '--sizes',
      '3',
      '--backend',
      'wasm',
      '--store',
      data,
      '--json',
    );
    expect(swept.code, swept.err).toBe(0);
    const result = JSON.parse(swept.out);
    expect(result.runs.filter((r: { status: string }) => r.status === 'completed')).toHaveLength(9);

    const json = await cli('fit', result.sweepId, '--store', data, '--bootstrap', '50', '--holdout-largest', '--json');
    expect(json.code, json.err).toBe(0);
    const fit = JSON.parse(json.out);
    expect(fit.compute.measure).toBe('exact');
    // 6·N·D undercounts a small GPT's FLOPs by a fifth or more, yet every run lands in its planned budget.
    const ratios = (fit.runs as Array<{ flops: number; sixND: number }>).map((run) => run.sixND / run.flops);
    expect(Math.min(...ratios)).toBeLessThan(0.8);
    expect(fit.isoflop).not.toBeNull();
    expect(fit.isoflop.groupedBy).toBe('planned budget');
    expect(fit.isoflop.runsUsed).toBe(9);
    expect(fit.isoflop.budgets.map((b: { runs: number }) => b.runs)).toEqual([3, 3, 3]);
    // This small, the smallest model (8,432 parameters) has the lowest loss at every budget: approach 1's
    // envelope holds one size, so it has no exponents, and it says so rather than leaving its row out.
    expect(fit.approaches.map((row: { approach: number }) => row.approach)).toEqual([2, 3]);
    expect(fit.approachOneMissing).toMatch(/^one size \(8,432 parameters\) holds the lowest loss at every compute/);
    expect(fit.warnings).toContain(`No approach 1: ${fit.approachOneMissing}.`);
    expect(fit.backtest.heldOutBudget).toBe(1e11);
    // The floor is the generating process's bits per byte in nats (byte tokens): about 0.6.
    expect(fit.knownFloor.kind).toBe('entropy bound');
    expect(fit.knownFloor.loss).toBeGreaterThan(0.5);
    expect(fit.knownFloor.loss).toBeLessThan(0.7);
    // The models are far above that floor (losses near 2 at 1e11), so E is not identified: the fit puts it at 0,
    // prints its interval as unbounded, warns, and the backtest flags the law's miss of 1e11.
    const lowest = Math.min(...(fit.runs as Array<{ loss: number }>).map((run) => run.loss));
    expect(lowest).toBeGreaterThan(2 * fit.knownFloor.loss);
    expect(fit.parametric.E).toBeLessThan(1e-3 * lowest);
    expect(fit.parametric.unbounded.E).toBe('both');
    expect(fit.warnings.join('\n')).toMatch(/E is at its lower bound/);
    expect(fit.backtest.flagged).toBe(true);

    const text = await cli('fit', result.sweepId, '--store', data, '--bootstrap', '50', '--holdout-largest');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^ {2}2 {2}a = .*IsoFLOP profiles \(3 budgets, 9 of 9 runs, by planned budget\)$/m);
    expect(text.out).toMatch(/^ {2}1 {2}none: one size \(8,432 parameters\) holds the lowest loss at every compute/m);
    expect(text.out).toMatch(/^ {2}3 {2}a = /m);
    expect(text.out).toMatch(
      /^Backtest \(fitted on 1\.00e\+10, 3\.00e\+10 FLOPs, held out 1\.00e\+11\): loss error [\d.]+%/m,
    );
    expect(text.out).toMatch(/entropy bound is 0\.6\d\d nats per token/);
  }, 900_000);
});
