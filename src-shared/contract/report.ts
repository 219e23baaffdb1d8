import { z } from 'zod';

/** A report as data: what the PDF shows, in SI units, with what it takes to reproduce it. */

const Interval = z.tuple([z.number(), z.number()]).nullable();
const MeanStd = z.object({ mean: z.number(), std: z.number() }).nullable();

export const ReportData = z.object({
  reportVersion: z.literal(1),
  generatedAt: z.string(),
  appVersion: z.string(),
  title: z.string(),
  dataset: z.object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(['text', 'table']),
    sourceSha256: z.string(),
    trainItems: z.number(),
    irreducibleLoss: z.number().nullable(),
    /** the lowest loss the data allows where known: a teacher's noise, or a corpus's entropy bound in nats per token */
    knownFloor: z.object({ loss: z.number(), kind: z.enum(['noise', 'entropy bound']) }).nullable(),
  }),
  /** what the report covers: a sweep, runs chosen by hand (a comparison, a single run), or a study's trials */
  sweep: z.object({
    scope: z.enum(['sweep', 'runs', 'study']),
    id: z.string(),
    name: z.string(),
    budgetsFlops: z.array(z.number()),
    runIds: z.array(z.string()),
  }),
  environment: z.object({ backends: z.array(z.string()), platforms: z.array(z.string()) }),
  summary: z.string(),
  notes: z.array(z.string()),
  fit: z
    .object({
      runsUsed: z.number().int(),
      method: z.string(),
      E: z.number(),
      A: z.number(),
      B: z.number(),
      alpha: z.number(),
      beta: z.number(),
      a: z.number(),
      b: z.number(),
      ci95: z.record(z.string(), Interval).nullable(),
      /** ends of an interval the runs leave open: shown as unbounded */
      unbounded: z.record(z.string(), z.enum(['below', 'above', 'both'])),
      /** N as total parameters (Chinchilla) or non-embedding parameters (Kaplan et al.) */
      params: z.enum(['total', 'nonEmbedding']),
      /** how compute is counted everywhere in the report: C = k N^p D */
      compute: z.object({ k: z.number(), p: z.number(), measure: z.enum(['exact', '6ND']), description: z.string() }),
      /** a and b from Chinchilla's approaches 1, 2 and 3, side by side */
      approaches: z.array(
        z.object({
          approach: z.number().int(),
          name: z.string(),
          a: z.number(),
          b: z.number(),
          aCi95: Interval,
          bCi95: Interval,
        }),
      ),
      /** the law fitted without the largest budget, predicting it */
      backtest: z
        .object({
          heldOutBudget: z.number(),
          fittedOn: z.array(z.number()),
          meanAbsLossErrorPct: z.number(),
          nStarPredicted: z.number(),
          nStarObserved: z.number(),
          nStarRatio: z.number(),
          flagged: z.boolean(),
          verdict: z.string(),
        })
        .nullable(),
      /** what the runs cannot support, in plain sentences */
      warnings: z.array(z.string()),
      /** how far the summary's budget extrapolates, and whether its D* repeats the data */
      budgetNotes: z.array(z.string()),
      /** N*(C) and D*(C) over a grid of compute, with the 95% interval of the bootstrap fits at each C (the band) */
      optimumCurve: z.array(
        z.object({
          flops: z.number(),
          params: z.number(),
          tokens: z.number(),
          paramsCi95: Interval,
          tokensCi95: Interval,
        }),
      ),
      allocation: z.object({
        flops: z.number(),
        params: z.number(),
        tokens: z.number(),
        tokensPerParam: z.number(),
        loss: z.number(),
        paramsCi95: Interval,
        tokensCi95: Interval,
        tokensPerParamCi95: Interval,
        lossCi95: Interval,
      }),
      isoflop: z
        .object({
          a: z.number(),
          b: z.number(),
          aCi95: Interval,
          bCi95: Interval,
          groupedBy: z.string(),
          runsUsed: z.number().int(),
        })
        .nullable(),
    })
    .nullable(),
  runs: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      status: z.string(),
      params: z.number(),
      budgetFlops: z.number(),
      /** training FLOPs the run spent, by the engine's exact count, and Chinchilla's 6·N·D beside it */
      flops: z.number().nullable(),
      sixND: z.number().nullable(),
      tokens: z.number().nullable(),
      tokensPerParam: z.number().nullable(),
      finalValLoss: z.number().nullable(),
      bestValLoss: z.number().nullable(),
      verdict: z.enum(['under-trained', 'near-optimal', 'over-trained']).nullable(),
      overfitting: z.boolean(),
      backend: z.string().nullable(),
      config: z.record(z.string(), z.unknown()),
      curve: z.array(
        z.object({ step: z.number(), tokens: z.number(), trainLoss: z.number(), valLoss: z.number().nullable() }),
      ),
    }),
  ),
  /** a hyper-parameter study: its search and every trial (scope "study") */
  study: z
    .object({
      id: z.string(),
      name: z.string(),
      sampler: z.string(),
      pruner: z.string(),
      objective: z.string(),
      stepsPerTrial: z.number().int(),
      trialsPlanned: z.number().int(),
      space: z.record(z.string(), z.unknown()),
      trials: z.array(
        z.object({
          number: z.number().int(),
          state: z.string(),
          value: z.number().nullable(),
          params: z.record(z.string(), z.union([z.number(), z.string()])),
          runId: z.string(),
          note: z.string().nullable(),
        }),
      ),
      best: z
        .object({
          number: z.number().int(),
          value: z.number(),
          params: z.record(z.string(), z.union([z.number(), z.string()])),
        })
        .nullable(),
    })
    .nullable()
    .default(null),
  /** k-fold cross-validations among the runs: mean ± sample std over completed folds */
  crossValidations: z
    .array(
      z.object({
        cvId: z.string(),
        k: z.number().int(),
        completed: z.number().int(),
        bestValLoss: MeanStd,
        valAccuracy: MeanStd,
        folds: z.array(
          z.object({
            index: z.number().int(),
            runId: z.string(),
            status: z.string(),
            bestValLoss: z.number().nullable(),
            valAccuracy: z.number().nullable(),
          }),
        ),
        band: z.array(z.object({ step: z.number(), mean: z.number(), std: z.number() })),
      }),
    )
    .default([]),
  methods: z.array(z.string()),
});
export type ReportData = z.infer<typeof ReportData>;
