import {
  type Allocation,
  allocate,
  bootstrapParametric,
  type Ci95,
  classifyRun,
  type TrainingVerdict,
} from './frontier';
import { fitIsoflop, type IsoflopFit } from './isoflop';
import { exponents, fitParametric, type Observation, type ScalingLaw } from './parametric';

/** Everything the Frontier view and `isoflop fit` show for a set of runs, computed in one place. */

export interface FrontierAnalysis {
  n: number;
  law: ScalingLaw & { a: number; b: number };
  ci95: Ci95 | null;
  /** the bootstrap's laws, so a budget typed later gets its interval without refitting */
  bootstrapLaws: ScalingLaw[];
  isoflop: IsoflopFit | null;
  allocation: Allocation[];
  runs: Array<
    Observation & {
      flops: number;
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
}

export function analyzeRuns(runs: Observation[], options: AnalysisOptions): FrontierAnalysis {
  const law = fitParametric(runs);
  const { ci95, laws } =
    options.bootstrap > 0 ? bootstrapParametric(runs, law, options.bootstrap, options.seed) : { ci95: null, laws: [] };
  const isoflop = fitIsoflop(
    runs.map((run) => ({ params: run.n, tokens: run.d, loss: run.loss })),
    options.bootstrap,
    options.seed,
  );
  return {
    n: runs.length,
    law: { E: law.E, A: law.A, B: law.B, alpha: law.alpha, beta: law.beta, ...exponents(law) },
    ci95,
    bootstrapLaws: laws,
    isoflop,
    allocation: options.budgets.map((flops) => allocate(law, flops, laws)),
    runs: runs.map((run) => ({ ...run, ...classifyRun(law, { params: run.n, tokens: run.d }) })),
  };
}
