import { z } from 'zod';
import { BackendName } from './backend';
import { DatasetId, DatasetManifest, ImportRequest, Job, Seed } from './datasets';
import {
  BytesSource,
  CheckpointManifest,
  EarlyStoppingMetric,
  MetricRow,
  PlannedRun,
  RunId,
  RunRecord,
  RunStatus,
  SweepId,
  SweepRecord,
} from './runs';
import { StudyId, StudyRecord, StudyRequest } from './studies';
import { SystemInfo } from './system';

/** One API call: what it takes, what it answers, one line on what it is for. */
export interface ChannelSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  summary: string;
}

const noInput = z.object({}).strict();

const CvId = z.string().regex(/^cv-[a-z0-9-]{1,60}$/, 'a cross-validation id is "cv-" then letters, digits, dashes');
const MeanStd = z.object({ mean: z.number(), std: z.number() }).nullable();
const CrossValidationSummary = z.object({
  k: z.number().int(),
  completed: z.number().int(),
  folds: z.array(
    z.object({
      index: z.number().int(),
      runId: RunId,
      status: z.string(),
      bestValLoss: z.number().nullable(),
      valAccuracy: z.number().nullable(),
    }),
  ),
  bestValLoss: MeanStd,
  valAccuracy: MeanStd,
  band: z.array(z.object({ step: z.number(), mean: z.number(), std: z.number() })),
});

const SweepRequest = z
  .object({
    datasetId: DatasetId,
    /** FLOPs; the planner refuses a budget whose runs would need more steps than a run may take */
    budgets: z
      .array(z.number().min(1, 'a budget is at least 1 FLOP').max(1e27, 'a budget is at most 1e27 FLOPs'))
      .min(1)
      .max(12),
    sizesPerBudget: z.number().int().min(1).max(20),
    batchSize: z.number().int().min(1).max(65536).optional(),
    /** run i of the sweep trains with seed + i (1 when absent) */
    seed: Seed.optional(),
    /** applied to every run of the sweep */
    regularization: z
      .object({
        weightDecay: z.number().min(0).max(10).optional(),
        l1: z.number().min(0).max(10).optional(),
        l2: z.number().min(0).max(10).optional(),
        dropout: z.number().min(0).max(0.9).optional(),
        earlyStoppingPatience: z.number().int().min(1).max(1000).optional(),
        /** the least improvement that counts (in the metric's units) */
        earlyStoppingMinDelta: z.number().min(0).max(10).optional(),
        earlyStoppingMetric: EarlyStoppingMetric.optional(),
      })
      .strict()
      .optional(),
    /** each size's peak learning rate, from the per-size search run before the sweep (others keep the default) */
    learningRates: z
      .array(z.object({ params: z.number().positive(), learningRate: z.number().positive().max(10) }).strict())
      .max(240)
      .optional(),
  })
  .strict();

/** Every call the renderer, the web server and the CLI may make. The one source of truth. */
export const api = {
  'system.info': {
    input: noInput,
    output: SystemInfo,
    summary: 'App version, data folder, platform and transport',
  },
  'datasets.list': {
    input: noInput,
    output: z.object({
      datasets: z.array(DatasetManifest),
      /** The built-in demos are being generated (first start of a data folder). */
      preparingDemos: z.boolean(),
      demoError: z.string().nullable(),
      /** Built-in demos the user deleted: "Restore the demos" brings them back. */
      missingDemos: z.array(DatasetId),
    }),
    summary: "Every dataset in the data folder: the user's own, newest first, then the built-in demos",
  },
  'datasets.get': {
    input: z.object({ id: DatasetId }).strict(),
    output: DatasetManifest,
    summary: "One dataset's manifest: sizes, splits, statistics, preview",
  },
  'datasets.rename': {
    input: z.object({ id: DatasetId, name: z.string().trim().min(1).max(200) }).strict(),
    output: DatasetManifest,
    summary: 'Give a dataset a new display name (its id stays)',
  },
  'datasets.delete': {
    input: z.object({ id: DatasetId }).strict(),
    output: z.object({ id: DatasetId }),
    summary: 'Delete a dataset and its files',
  },
  'datasets.restoreDemos': {
    input: noInput,
    output: z.object({ restored: z.array(DatasetId) }),
    summary: 'Make the built-in demo datasets the user deleted again, from their seeds',
  },
  'datasets.import': {
    input: ImportRequest,
    output: Job,
    summary: 'Start importing a file or folder; follow it with jobs.get',
  },
  'runs.list': {
    input: noInput,
    output: z.object({ runs: z.array(RunRecord), damaged: z.array(z.object({ id: z.string(), error: z.string() })) }),
    summary: 'Every run in the data folder, newest first; damaged ones listed apart',
  },
  'runs.get': {
    input: z.object({ id: RunId }).strict(),
    output: z.object({ run: RunRecord, metrics: z.array(MetricRow) }),
    summary: "One run's record and its metrics so far",
  },
  'sweeps.list': {
    input: noInput,
    output: z.array(SweepRecord),
    summary: 'Every sweep, newest first',
  },
  'sweeps.get': {
    input: z.object({ id: SweepId }).strict(),
    output: z.object({ sweep: SweepRecord, runs: z.array(RunRecord) }),
    summary: 'A sweep with its runs',
  },
  'sweeps.plan': {
    input: SweepRequest,
    output: z.object({
      batchSize: z.number().int(),
      plan: z.array(PlannedRun),
      /** the speed this machine has shown per backend for this model family (completed runs): time estimates */
      throughput: z.array(
        z.object({
          backend: BackendName,
          secondsPerRun: z.number().nonnegative(),
          secondsPerStep: z.number().nonnegative(),
          flopsPerSecond: z.number().positive().nullable(),
          runs: z.number().int().positive(),
        }),
      ),
    }),
    summary: 'Plan an IsoFLOP sweep: sizes, tokens, steps, warnings, and the throughput measured here',
  },
  'sweeps.create': {
    input: SweepRequest,
    output: SweepRecord,
    summary: 'Create a sweep and queue its runs (the app then trains them in its worker)',
  },
  'runs.createOverfitDemo': {
    input: noInput,
    output: RunRecord,
    summary: 'Queue the over-fitting demo: a large network on 256 rows of the teacher demo, with early stopping',
  },
  'runs.createRegularizationComparison': {
    input: noInput,
    output: z.array(RunRecord).length(2),
    summary: 'Queue the regularization comparison: one large network on 256 rows, without and with regularization',
  },
  'runs.createCrossValidation': {
    input: z
      .object({
        datasetId: DatasetId,
        k: z.number().int().min(2).max(255),
        width: z.number().int().min(1).max(100_000),
        depth: z.number().int().min(1).max(64),
        steps: z.number().int().min(10).max(10_000_000),
        batchSize: z.number().int().min(1).max(65_536),
        learningRate: z.number().positive().max(10),
        dropout: z.number().min(0).max(0.9).default(0),
        weightDecay: z.number().nonnegative().max(10).default(0),
        l1: z.number().nonnegative().max(10).default(0),
        l2: z.number().nonnegative().max(10).default(0),
        seed: Seed.default(1),
      })
      .strict(),
    output: z.array(RunRecord).min(2),
    summary: 'Queue a k-fold cross-validation of one network on a table: one run per fold, sharing a cvId',
  },
  'runs.crossValidation': {
    input: z.object({ cvId: CvId }).strict(),
    output: z.object({
      runs: z.array(RunRecord),
      metrics: z.array(z.array(MetricRow)),
      summary: CrossValidationSummary,
    }),
    summary: "A cross-validation's fold runs, their metrics, and mean ± std over the folds",
  },
  'runs.start': {
    input: z
      .object({
        id: RunId,
        backend: BackendName,
        adapter: z.string().max(200).nullable(),
        platform: z.string().max(200),
        /** the checkpoint step it resumes from; 0 trains from the start (and drops old checkpoints) */
        fromStep: z.number().int().nonnegative().default(0),
        /** lines for the run's log: why it starts again (a resume, a backend that failed mid-run), its memory */
        notes: z.array(z.string().max(1000)).max(8).default([]),
      })
      .strict(),
    output: RunRecord,
    summary: 'Mark a run as running, with the backend and adapter it trains on; metrics past fromStep are dropped',
  },
  'runs.saveCheckpoint': {
    input: z.object({ id: RunId, manifest: CheckpointManifest, weights: BytesSource }).strict(),
    output: z.object({ step: z.number().int() }),
    summary: "Store a run's checkpoint (weights, optimizer state, data position) at its step",
  },
  'runs.latestCheckpoint': {
    input: z.object({ id: RunId }).strict(),
    output: z.object({ manifest: CheckpointManifest, weightsUrl: z.string() }).nullable(),
    summary: "A run's newest readable checkpoint: its model.json, and where the worker fetches weights.bin",
  },
  'runs.appendMetrics': {
    input: z.object({ id: RunId, rows: z.array(MetricRow).min(1).max(1000) }).strict(),
    output: z.object({ appended: z.number() }),
    summary: 'Append evaluation rows to a run as they happen',
  },
  'runs.finish': {
    input: z
      .object({
        id: RunId,
        status: RunStatus.exclude(['queued', 'running']),
        result: RunRecord.shape.result,
        error: z.string().max(10_000).nullable(),
      })
      .strict(),
    output: RunRecord,
    summary: 'Record how a run ended: its status, result or error',
  },
  'runs.cancel': {
    input: z.object({ id: RunId }).strict(),
    output: RunRecord,
    summary: 'Cancel a run that waits (queued or interrupted): it will not train; re-run it to train it',
  },
  'runs.requeue': {
    input: z.object({ id: RunId }).strict(),
    output: RunRecord,
    summary: 'Re-run a run that ended: its metrics and checkpoints are dropped and it waits in the queue again',
  },
  'studies.list': {
    input: noInput,
    output: z.array(StudyRecord),
    summary: 'Every hyper-parameter study, newest first',
  },
  'studies.get': {
    input: z.object({ id: StudyId }).strict(),
    output: z.object({ study: StudyRecord, runs: z.array(RunRecord) }),
    summary: 'A study with its trials and their runs',
  },
  'studies.create': {
    input: StudyRequest,
    output: StudyRecord,
    summary: 'Create a study (space, sampler, pruner, trials); an unusable space is refused before anything trains',
  },
  'studies.nextTrial': {
    input: z.object({ id: StudyId }).strict(),
    output: RunRecord.nullable(),
    summary: "The run to train next: an unfinished trial's, else a new trial the sampler proposes; null when done",
  },
  'studies.report': {
    input: z.object({ id: StudyId, runId: RunId, step: z.number().int().positive(), value: z.number() }).strict(),
    output: z.object({ prune: z.boolean() }),
    summary: "Record a trial's validation loss at a step; answers whether the pruner stops it there",
  },
  'studies.finishTrial': {
    input: z.object({ id: StudyId, runId: RunId }).strict(),
    output: StudyRecord,
    summary: "Record how a trial's run ended (complete with its value, pruned or failed)",
  },
  'reports.list': {
    input: noInput,
    output: z.array(
      z.object({
        name: z.string(),
        bytes: z.number(),
        modifiedAt: z.string(),
        /** what the report was made from; null for reports older than this record */
        source: z
          .object({ scope: z.enum(['sweep', 'runs', 'study']), id: z.string(), name: z.string(), dataset: z.string() })
          .nullable(),
      }),
    ),
    summary: 'Reports in the data folder, newest first (open them at /data/reports/<name>)',
  },
  'reports.export': {
    input: z
      .object({
        /** a sweep, runs chosen by hand (a comparison, one run), or a study: name one of the three */
        sweepId: SweepId.optional(),
        runIds: z.array(RunId).min(1).max(1000).optional(),
        studyId: StudyId.optional(),
        format: z.enum(['pdf', 'json', 'both']),
        paper: z.enum(['A4', 'Letter']),
        /** the file name in reports/, without extension; a dated one when omitted */
        name: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]{0,80}$/i, 'a report name is letters, digits and dashes')
          .optional(),
        /** the compute budget the summary sizes a model for; the largest budget the runs trained at when omitted */
        budget: z.number().min(1, 'a budget is at least 1 FLOP').max(1e40, 'a budget is at most 1e40 FLOPs').optional(),
      })
      .strict()
      .refine(
        (input) => [input.sweepId, input.runIds, input.studyId].filter((named) => named !== undefined).length === 1,
        { message: 'name one of a sweep (sweepId), runs (runIds) or a study (studyId)', path: ['sweepId'] },
      ),
    output: z.object({ files: z.array(z.string()) }),
    summary: "Write a report on a sweep, a study or chosen runs into the data folder's reports/",
  },
  'reports.reveal': {
    input: z
      .object({ name: z.string().regex(/^[a-z0-9-]+\.(pdf|json)$/i, 'a report file name, such as sweep-1.pdf') })
      .strict(),
    output: z.object({ path: z.string(), revealed: z.boolean(), message: z.string().nullable() }),
    summary: "Show a report in the system's file manager; answers its full path either way",
  },
  'jobs.get': {
    input: z.object({ id: z.string().regex(/^[a-z0-9]{8,64}$/) }).strict(),
    output: Job,
    summary: "A background job's progress, result or error",
  },
} as const satisfies Record<string, ChannelSpec>;

export type Api = typeof api;
export type Channel = keyof Api;
export type Input<C extends Channel> = z.input<Api[C]['input']>;
export type Output<C extends Channel> = z.output<Api[C]['output']>;

export const channels = Object.keys(api) as Channel[];

export function isChannel(name: string): name is Channel {
  return Object.hasOwn(api, name);
}
