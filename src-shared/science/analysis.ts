import { formatCount } from '../format';
import { Random } from '../random';
import { type Backtest, backtestLargest } from './backtest';
import { type ComputeMeasure, describeCompute, fitComputeModel } from './compute';
import { diagnose, type KnownFloor, type Unbounded } from './diagnostics';
import {
  type Allocation,
  allocate,
  bootstrapParametric,
  type Ci95,
  classifyRun,
  type TrainingVerdict,
} from './frontier';
import { budgetGroups, fitEnvelope, fitIsoflop, type IsoflopFit, type Run, whyNoIsoflop } from './isoflop';
import { exponents, fitParametric, type Observation, type ScalingLaw } from './parametric';
import { byStratum, interval95, resampleWithin } from './stats';

/** Everything the Frontier view, `isoflop fit` and the report show for a set of runs, computed in one place. */

/** A run as the fits see it. `n` is total parameters (Chinchilla's N). */
export interface RunObservation extends Observation {
  /** Kaplan et al.'s N: parameters less the embeddings (and an untied unembedding) */
  nNonEmbedding?: number;
  /** training FLOPs by the engine's exact accounting, or a CSV's flops column */
  flops?: number;
  /** the budget a sweep planned the run for */
  budget?: number;
}

export type ParamsCounted = 'total' | 'nonEmbedding';

export interface ApproachExponents {
  approach: 1 | 2 | 3;
  name: string;
  a: number;
  b: number;
  aCi95: [number, number] | null;
  bCi95: [number, number] | null;
}

export interface FrontierAnalysis {
  n: number;
  law: ScalingLaw & { a: number; b: number };
  ci95: Ci95 | null;
  /** which ends of each interval the runs do not bound (shown as unbounded, not as a number) */
  unbounded: Partial<Record<keyof Ci95, Unbounded>>;
  /** the bootstrap's laws, so a budget typed later gets its interval without refitting */
  bootstrapLaws: ScalingLaw[];
  /** C = k N^p D: how the runs' compute is counted everywhere below */
  compute: ComputeMeasure & { description: string };
  paramsCounted: ParamsCounted;
  /** the largest compute any run spent: every budget says how far beyond it it extrapolates */
  largestFlops: number;
  isoflop: IsoflopFit | null;
  /** why approach 2 has no answer, when it has none */
  isoflopMissing: string | null;
  /** why approach 1 has no row in `approaches`, when it has none */
  approachOneMissing: string | null;
  approaches: ApproachExponents[];
  allocation: Allocation[];
  backtest: Backtest | null;
  floor: KnownFloor | null;
  /** plain sentences: what the runs cannot support; empty when nothing is wrong */
  warnings: string[];
  runs: Array<
    Observation & {
      flops: number;
      sixND: number;
      tokensPerParam: number;
      optimalTokensPerParam: number;
      ratio: number;
      verdict: TrainingVerdict;
    }
  >;
}

export interface AnalysisOptions {
  bootstrap: number;
  seed: number;
  budgets: number[];
  /** N as total parameters (Chinchilla, the default) or non-embedding parameters (Kaplan et al.) */
  params?: ParamsCounted;
  /** fit on every budget but the largest and say how well it predicts the largest */
  holdoutLargest?: boolean;
  /** the lowest loss the data allows, where it is known */
  floor?: KnownFloor | null;
  /** unique training tokens (rows, for tables): a D* beyond it repeats data */
  uniqueTokens?: number | null;
}

/** The runs with N counted as asked; an error names what is missing. */
function counted(runs: RunObservation[], params: ParamsCounted): RunObservation[] {
  if (params === 'total') return runs;
  const missing = runs.filter((run) => run.nNonEmbedding === undefined).length;
  if (missing > 0)
    throw new RangeError(
      `${missing} of ${runs.length} runs carry no non-embedding parameter count: fit them with total parameters, or give a CSV a params_non_embedding column`,
    );
  return runs.map((run) => ({ ...run, n: run.nNonEmbedding as number }));
}

const toRun = (run: RunObservation): Run => ({
  params: run.n,
  tokens: run.d,
  loss: run.loss,
  ...(run.flops !== undefined ? { flops: run.flops } : {}),
  ...(run.budget !== undefined ? { budget: run.budget } : {}),
});

/** Approach 1 on the runs' final points: the lower envelope of loss against compute, with bootstrap intervals. */
function approachOne(
  runs: RunObservation[],
  flopsOf: (run: RunObservation) => number,
  strata: number[],
  options: AnalysisOptions,
  compute: ComputeMeasure,
): ApproachExponents | { missing: string } {
  const points = (sample: RunObservation[]) =>
    sample.map((run) => ({ flops: flopsOf(run), loss: run.loss, params: run.n }));
  const fit = fitEnvelope(points(runs), 30, compute.model);
  // analyzeRuns needs 5 runs for approach 3, and an envelope needs 4, so only a single size can leave it without a slope.
  if (!fit || !Number.isFinite(fit.a)) {
    const sizes = new Set((fit?.envelope ?? []).map((point) => point.params));
    const size = fit?.envelope[0]?.params;
    return {
      missing:
        sizes.size === 1 && size !== undefined
          ? `one size (${formatCount(size)} parameters) holds the lowest loss at every compute, so the lower envelope cannot say how N* moves with compute; widen the sizes or the budgets`
          : 'the lower envelope of loss against compute holds too few runs to fit a slope; train more sizes and budgets',
    };
  }
  const random = new Random(options.seed + 1);
  const groups = byStratum(runs, strata);
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < options.bootstrap; i++) {
    const refit = fitEnvelope(points(resampleWithin(groups, random)), 30, compute.model);
    if (refit && Number.isFinite(refit.a)) {
      as.push(refit.a);
      bs.push(refit.b);
    }
  }
  const enough = as.length >= options.bootstrap / 2 && options.bootstrap > 0;
  return {
    approach: 1,
    name: 'lower envelope of loss against compute',
    a: fit.a,
    b: fit.b,
    aCi95: enough ? interval95(as) : null,
    bCi95: enough ? interval95(bs) : null,
  };
}

export function analyzeRuns(input: RunObservation[], options: AnalysisOptions): FrontierAnalysis {
  const paramsCounted = options.params ?? 'total';
  const runs = counted(input, paramsCounted);
  const compute = fitComputeModel(runs);
  const flopsOf = (run: RunObservation) => run.flops ?? compute.model.k * run.n ** compute.model.p * run.d;
  const law = fitParametric(runs);
  // Each run's stratum is its budget, so a bootstrap resamples within budgets, as they were designed.
  const asRuns = runs.map(toRun);
  const groups = budgetGroups(asRuns);
  const groupOf = new Map(groups.flatMap((group, index) => group.runs.map((run) => [run, index] as const)));
  const strata = asRuns.map((run) => groupOf.get(run) ?? 0);
  const { ci95, laws } =
    options.bootstrap > 0
      ? bootstrapParametric(runs, law, options.bootstrap, options.seed, strata, compute.model)
      : { ci95: null, laws: [] };
  const isoflop = fitIsoflop(asRuns, options.bootstrap, options.seed, compute.model);
  const isoflopMissing = isoflop ? null : whyNoIsoflop(asRuns);
  const parametric = { ...law, ...exponents(law, compute.model) };
  const one = approachOne(runs, flopsOf, strata, options, compute);
  const approachOneMissing = 'missing' in one ? one.missing : null;
  const approaches: ApproachExponents[] = [
    ...('missing' in one ? [] : [one]),
    ...(isoflop
      ? [
          {
            approach: 2 as const,
            name: 'IsoFLOP profiles',
            a: isoflop.a,
            b: isoflop.b,
            aCi95: isoflop.aCi95,
            bCi95: isoflop.bCi95,
          },
        ]
      : []),
    {
      approach: 3,
      name: 'parametric fit of L(N, D)',
      a: parametric.a,
      b: parametric.b,
      aCi95: ci95?.a ?? null,
      bCi95: ci95?.b ?? null,
    },
  ];
  const largestFlops = Math.max(...runs.map(flopsOf));
  const backtest = options.holdoutLargest ? backtestLargest(asRuns, compute.model, law) : null;
  const allocation = options.budgets.map((flops) => allocate(law, flops, laws, compute.model));
  const { warnings, unbounded } = diagnose({
    runs,
    law,
    ci95,
    isoflop,
    isoflopMissing,
    approachOneMissing,
    approaches,
    budgets: groups.length,
    floor: options.floor ?? null,
    backtest,
    compute,
  });
  if (options.holdoutLargest && !backtest)
    warnings.push(
      'No backtest: it needs 3 budgets or more (and 5 runs below the largest), so that a law fitted without the largest budget still rests on 2.',
    );
  return {
    n: runs.length,
    law: { E: law.E, A: law.A, B: law.B, alpha: law.alpha, beta: law.beta, a: parametric.a, b: parametric.b },
    ci95,
    unbounded,
    bootstrapLaws: laws,
    compute: { ...compute, description: describeCompute(compute) },
    paramsCounted,
    largestFlops,
    isoflop,
    isoflopMissing,
    approachOneMissing,
    approaches,
    allocation,
    backtest,
    floor: options.floor ?? null,
    warnings,
    runs: runs.map((run) => ({
      n: run.n,
      d: run.d,
      loss: run.loss,
      sixND: 6 * run.n * run.d,
      ...classifyRun(law, { params: run.n, tokens: run.d, flops: flopsOf(run) }, compute.model),
    })),
  };
}
