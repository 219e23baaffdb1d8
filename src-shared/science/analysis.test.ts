import { describe, expect, it } from 'vitest';
import type { DatasetManifest } from '../contract';
import { planSweep } from '../engine/planner';
import { Random } from '../random';
import { analyzeRuns, type RunObservation } from './analysis';
import { formatInterval } from './diagnostics';
import { computeOptimal, predictLoss, type ScalingLaw } from './parametric';

/** A byte-level corpus as the planner sees it: only the fields it reads. */
const corpus = {
  kind: 'text',
  tokenizer: { type: 'byte', vocabSize: 256, file: null, trainedOnBytes: null },
  splits: { train: { tokens: 50_000_000 }, val: { tokens: 1_000_000 }, test: { tokens: 1_000_000 } },
} as unknown as DatasetManifest;

const law: ScalingLaw = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

function noisy(random: Random, noise: number, n: number, d: number, truth: ScalingLaw = law) {
  return predictLoss(truth, n, d) * Math.exp(noise * random.normal());
}

/** A known law sampled at 5 budgets x 6 sizes spread around each optimum. */
function grid(seed: number, noise: number, truthAt: (flops: number) => ScalingLaw = () => law): RunObservation[] {
  const random = new Random(seed);
  const runs: RunObservation[] = [];
  for (const flops of [1e18, 3e18, 1e19, 3e19, 1e20]) {
    const truth = truthAt(flops);
    const optimum = computeOptimal(truth, flops);
    for (let k = 0; k < 6; k++) {
      const n = optimum.params * 4 ** ((k - 2.5) / 2.5);
      const d = flops / (6 * n);
      runs.push({ n, d, loss: noisy(random, noise, n, d, truth), flops, budget: flops });
    }
  }
  return runs;
}

describe('one measure of compute', () => {
  it('groups a GPT sweep by its planned budgets even where 6·N·D strays from them by 30% or more', () => {
    const budgets = [1e12, 3e12, 1e13, 3e13];
    const plan = planSweep({ dataset: corpus, budgets, sizesPerBudget: 5, batchSize: 16, contextLength: 64 });
    const ratios = plan.map((run) => (6 * run.params * run.tokens) / run.budgetFlops);
    expect(Math.min(...ratios)).toBeLessThan(0.7);
    const random = new Random(4);
    const small: ScalingLaw = { E: 0.6, A: 40, B: 300, alpha: 0.35, beta: 0.3 };
    const runs = plan.map((run) => ({
      n: run.params,
      d: run.tokens,
      loss: noisy(random, 0.002, run.params, run.tokens, small),
      flops: run.tokens * run.flopsPerToken,
      budget: run.budgetFlops,
    }));
    const analysis = analyzeRuns(runs, { bootstrap: 20, seed: 1, budgets: [1e14] });
    expect(analysis.isoflop?.groupedBy).toBe('planned budget');
    expect(analysis.isoflop?.budgets.map((b) => b.flops)).toEqual(budgets);
    for (const budget of budgets)
      expect(analysis.isoflop?.budgets.find((b) => b.flops === budget)?.runs).toHaveLength(
        plan.filter((run) => run.budgetFlops === budget).length,
      );
    expect(analysis.isoflop?.runsUsed).toBe(plan.length);
    // Verdicts are judged at the compute the runs spent, not at 6·N·D.
    expect(analysis.compute.measure).toBe('exact');
    for (const [i, run] of analysis.runs.entries()) {
      expect(run.flops).toBeCloseTo(runs[i]?.flops as number, 0);
      expect(run.sixND).toBeCloseTo(6 * run.n * run.d, 0);
    }
    expect(analysis.warnings.some((w) => w.includes('6·N·D is'))).toBe(true);
    // The optimum at a budget spends it exactly: k N*^p D* = C.
    const [allocation] = analysis.allocation;
    const { k, p } = analysis.compute.model;
    expect((k * (allocation?.params as number) ** p * (allocation?.tokens as number)) / 1e14).toBeCloseTo(1, 6);
  });

  it('groups a CSV by its flops column when it has one, else by 6·N·D, and says which', () => {
    const runs = grid(1, 0.005).map(({ budget: _budget, ...run }) => run);
    expect(analyzeRuns(runs, { bootstrap: 0, seed: 1, budgets: [] }).isoflop?.groupedBy).toBe('flops');
    const bare = runs.map(({ flops: _flops, ...run }) => run);
    const analysis = analyzeRuns(bare, { bootstrap: 0, seed: 1, budgets: [] });
    expect(analysis.isoflop?.groupedBy).toBe('6ND');
    expect(analysis.compute.measure).toBe('6ND');
  });

  it('fits with non-embedding parameters when asked, and names what is missing when runs lack them', () => {
    const runs = grid(2, 0.005).map((run) => ({ ...run, nNonEmbedding: run.n * 0.8 }));
    const analysis = analyzeRuns(runs, { bootstrap: 0, seed: 1, budgets: [], params: 'nonEmbedding' });
    expect(analysis.paramsCounted).toBe('nonEmbedding');
    expect(analysis.runs[0]?.n).toBeCloseTo((runs[0]?.n as number) * 0.8, 6);
    expect(() => analyzeRuns(grid(2, 0.005), { bootstrap: 0, seed: 1, budgets: [], params: 'nonEmbedding' })).toThrow(
      /non-embedding/,
    );
  });
});

describe('backtest on the largest budget', () => {
  it('predicts a known law well and does not flag it', () => {
    const analysis = analyzeRuns(grid(3, 0.005), { bootstrap: 0, seed: 1, budgets: [], holdoutLargest: true });
    const backtest = analysis.backtest;
    expect(backtest?.heldOutBudget).toBe(1e20);
    expect(backtest?.fittedOn).toEqual([1e18, 3e18, 1e19, 3e19]);
    expect(backtest?.meanAbsLossErrorPct).toBeLessThan(1);
    expect(Math.abs(Math.log(backtest?.nStarRatio as number))).toBeLessThan(Math.log(1.5));
    expect(backtest?.flagged).toBe(false);
    expect(analysis.warnings.some((w) => w.startsWith('Backtest'))).toBe(false);
  });

  it('flags a law that breaks at the largest budget', () => {
    // Past 5e19 FLOPs the data term stops improving as fast: a break the small budgets cannot see.
    const broken = (flops: number): ScalingLaw => (flops > 5e19 ? { ...law, E: 1.9, beta: 0.2 } : law);
    const analysis = analyzeRuns(grid(3, 0.005, broken), { bootstrap: 0, seed: 1, budgets: [], holdoutLargest: true });
    expect(analysis.backtest?.meanAbsLossErrorPct).toBeGreaterThan(3);
    expect(analysis.backtest?.flagged).toBe(true);
    expect(analysis.warnings.some((w) => w.startsWith('Backtest') && w.includes('misses'))).toBe(true);
  });
});

describe('what the runs cannot support', () => {
  it('says when E sits at its bound and shows its interval as unbounded, not as a point', () => {
    // No loss floor at all: E = 0 in truth, and runs far from any floor.
    const flat: ScalingLaw = { E: 1e-12, A: 400, B: 400, alpha: 0.5, beta: 0.5 };
    const analysis = analyzeRuns(
      grid(5, 0.002, () => flat),
      { bootstrap: 40, seed: 1, budgets: [] },
    );
    expect(analysis.law.E).toBeLessThan(1e-3);
    expect(analysis.warnings.some((w) => w.startsWith('E is at its lower bound'))).toBe(true);
    expect(analysis.unbounded.E).toBe('both');
    expect(analysis.warnings.some((w) => w.startsWith('The bootstrap interval of E has zero width'))).toBe(true);
    expect(formatInterval(analysis.ci95?.E ?? null, analysis.unbounded.E)).toBe('[unbounded]');
  });

  it('says why approach 2 has no answer instead of leaving it out', () => {
    const random = new Random(6);
    const runs = [1e6, 2e6, 4e6, 8e6, 1.6e7, 3.2e7].map((n, i) => {
      const d = 1e8 * 2 ** i;
      return { n, d, loss: noisy(random, 0.001, n, d) };
    });
    const analysis = analyzeRuns(runs, { bootstrap: 0, seed: 1, budgets: [] });
    expect(analysis.isoflop).toBeNull();
    expect(analysis.isoflopMissing).toMatch(/needs at least 2 budgets of 3 or more sizes.*6 budgets/);
    expect(analysis.warnings.some((w) => w.startsWith('No IsoFLOP profiles'))).toBe(true);
    expect(analysis.warnings.some((w) => w.includes('Only 6 runs'))).toBe(true);
  });

  it('says why approach 1 has no answer when one size holds the lowest loss at every compute', () => {
    // Models far too small for every budget: the largest wins everywhere, so the envelope holds one size.
    const random = new Random(8);
    const runs: RunObservation[] = [];
    for (const flops of [1e18, 3e18, 1e19])
      for (const n of [1e6, 3e6, 1e7]) {
        const d = flops / (6 * n);
        runs.push({ n, d, loss: noisy(random, 0.001, n, d), flops, budget: flops });
      }
    const analysis = analyzeRuns(runs, { bootstrap: 20, seed: 1, budgets: [] });
    expect(analysis.approaches.map((row) => row.approach)).toEqual([2, 3]);
    expect(analysis.approachOneMissing).toMatch(
      /one size \(10\.0M parameters\) holds the lowest loss at every compute/,
    );
    expect(analysis.warnings).toContain(`No approach 1: ${analysis.approachOneMissing}.`);
    // With the valley inside the sizes, approach 1 is back and nothing is said of it.
    const good = analyzeRuns(grid(7, 0.005), { bootstrap: 0, seed: 1, budgets: [] });
    expect(good.approaches.map((row) => row.approach)).toEqual([1, 2, 3]);
    expect(good.approachOneMissing).toBeNull();
  });

  it('puts the three approaches side by side, and compares E with a known floor', () => {
    const analysis = analyzeRuns(grid(7, 0.005), {
      bootstrap: 50,
      seed: 1,
      budgets: [],
      floor: { loss: 1.2, kind: 'noise' },
    });
    expect(analysis.approaches.map((row) => row.approach)).toEqual([1, 2, 3]);
    for (const row of analysis.approaches.slice(1)) {
      expect(row.a).toBeGreaterThan(0.3);
      expect(row.a).toBeLessThan(0.6);
      expect(row.aCi95?.[0]).toBeLessThan(row.aCi95?.[1] as number);
    }
    expect(analysis.warnings.some((w) => w.includes('known noise floor 1.2'))).toBe(true);
  });
});
