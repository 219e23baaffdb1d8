import { z } from 'zod';
import { BackendName } from './backend';
import { DatasetId } from './datasets';

/** Runs and sweeps as the store keeps them: `<data>/runs/<id>/run.json`, `metrics.jsonl`; `<data>/sweeps/<id>/sweep.json`. */

export const RunId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,80}$/, 'a run id is lowercase letters, digits and dashes');
export const SweepId = RunId;

/** The same words everywhere: the app, the CLI, the reports. */
export const RunStatus = z.enum(['queued', 'running', 'completed', 'interrupted', 'diverged', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatus>;

export const MlpModel = z.object({
  family: z.literal('mlp'),
  inputs: z.number().int().positive().max(1_000_000),
  width: z.number().int().positive().max(65_536),
  depth: z.number().int().positive().max(64),
  activation: z.enum(['tanh', 'relu', 'gelu']),
  dropout: z.number().min(0).max(0.9),
  task: z.enum(['regression', 'classification']),
  outputs: z.number().int().positive().max(1_000_000),
});

export const GptModel = z.object({
  family: z.literal('gpt'),
  vocabSize: z.number().int().positive().max(65_536),
  contextLength: z.number().int().positive().max(8_192),
  dModel: z.number().int().positive().max(8_192),
  nLayers: z.number().int().positive().max(128),
  nHeads: z.number().int().positive().max(128),
  positions: z.enum(['learned', 'rotary']),
  tiedEmbeddings: z.boolean(),
  dropout: z.number().min(0).max(0.9),
  embedding: z.enum(['gather', 'onehot']),
});

export const EarlyStoppingMetric = z.enum(['valLoss', 'valAccuracy']);
export type EarlyStoppingMetric = z.infer<typeof EarlyStoppingMetric>;

export const ModelSpec = z.discriminatedUnion('family', [MlpModel, GptModel]);
export type ModelSpec = z.infer<typeof ModelSpec>;

export const RunConfig = z.object({
  datasetId: DatasetId,
  model: ModelSpec,
  batchSize: z.number().int().positive(),
  /** the compute budget this run was planned for */
  budgetFlops: z.number().positive(),
  plannedTokens: z.number().positive(),
  plannedSteps: z.number().int().positive(),
  peakLearningRate: z.number().positive(),
  warmupSteps: z.number().int().nonnegative(),
  weightDecay: z.number().nonnegative(),
  /** L1 and L2 penalties on the weight matrices, added to the loss */
  l1: z.number().nonnegative().default(0),
  l2: z.number().nonnegative().default(0),
  earlyStopping: z
    .object({
      patience: z.number().int().positive(),
      minDelta: z.number().nonnegative(),
      restoreBest: z.boolean(),
      /** what must stop improving: validation loss (lower is better) or accuracy (higher; classification) */
      metric: EarlyStoppingMetric.default('valLoss'),
    })
    .nullable()
    .default(null),
  seed: z.number().int(),
  evalSteps: z.array(z.number().int().positive()),
  /**
   * k-fold cross-validation (tables): train on every fold of the train+val rows but `index`, validate on
   * `index`; folds dealt with `seed`, stratified by class for classification. The test split stays unused.
   */
  fold: z
    .object({ k: z.number().int().min(2).max(255), index: z.number().int().nonnegative(), seed: z.number().int() })
    .nullable()
    .default(null),
});
export type RunConfig = z.infer<typeof RunConfig>;

export const RunRecord = z.object({
  formatVersion: z.literal(1),
  id: RunId,
  sweepId: SweepId.nullable(),
  /** the hyper-parameter study this run is a trial of (absent in older runs) */
  studyId: z.string().nullable().default(null),
  /** the cross-validation this run is a fold of: its runs share this id (absent in older runs) */
  cvId: z.string().nullable().default(null),
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: RunStatus,
  config: RunConfig,
  params: z.object({ total: z.number(), nonEmbedding: z.number() }),
  flopsPerToken: z.object({ perToken: z.number(), perTokenNonEmbedding: z.number(), sixN: z.number() }),
  environment: z
    .object({ backend: BackendName, adapter: z.string().nullable(), platform: z.string(), appVersion: z.string() })
    .nullable(),
  result: z
    .object({
      step: z.number(),
      tokens: z.number(),
      flops: z.number(),
      wallSeconds: z.number(),
      trainLoss: z.number().nullable(),
      valLoss: z.number().nullable(),
      bestValLoss: z.number().nullable(),
      divergedAt: z.number().nullable(),
      reason: z.string().max(2000),
    })
    .nullable(),
  error: z.string().nullable(),
  lastCheckpointStep: z.number().nullable(),
  /** what happened to the run beside its metrics: a resume, a backend that failed and the one that took over */
  log: z.array(z.object({ at: z.string(), message: z.string() })).default([]),
});
export type RunRecord = z.infer<typeof RunRecord>;

export const MetricRow = z.object({
  step: z.number(),
  tokens: z.number(),
  flops: z.number(),
  trainLoss: z.number(),
  valLoss: z.number().nullable(),
  /** classification: the share of validation examples classified right (absent in older rows) */
  valAccuracy: z.number().nullable().default(null),
  learningRate: z.number(),
  tokensPerSecond: z.number(),
  flopsPerSecond: z.number(),
  wallSeconds: z.number(),
});
export type MetricRow = z.infer<typeof MetricRow>;
/** A row as written: fields added later may be left out */
export type MetricRowInput = z.input<typeof MetricRow>;

export const PlannedRun = z.object({
  budgetFlops: z.number(),
  label: z.string(),
  model: ModelSpec,
  params: z.number(),
  flopsPerToken: z.number(),
  tokens: z.number(),
  steps: z.number().int(),
  tokensPerParam: z.number(),
  epochs: z.number(),
  warnings: z.array(z.string()),
  /** the peak learning rate tuned for this size before the sweep; the family's default when absent */
  learningRate: z.number().positive().max(10).optional(),
});
export type PlannedRun = z.infer<typeof PlannedRun>;

export const SweepRecord = z.object({
  formatVersion: z.literal(1),
  id: SweepId,
  name: z.string(),
  createdAt: z.string(),
  datasetId: DatasetId,
  budgets: z.array(z.number()),
  batchSize: z.number().int().positive(),
  plan: z.array(PlannedRun),
  runIds: z.array(RunId),
});
export type SweepRecord = z.infer<typeof SweepRecord>;

/**
 * A checkpoint's model.json (src-shared/engine/checkpoint.ts): everything but the numbers, which travel
 * as weights.bin. The engine checks it against the weights when it decodes them.
 */
export const CheckpointManifest = z.object({
  format: z.literal('isoflop-checkpoint'),
  version: z.literal(1),
  step: z.number().int().nonnegative().max(999_999_999_999_999),
  tokens: z.number().nonnegative(),
  flops: z.number().nonnegative(),
  wallSeconds: z.number().nonnegative(),
  adamStep: z.number().int().nonnegative(),
  bestLoss: z.number().nullable(),
  /**
   * The best evaluation so far (by the early-stopping metric), so a resumed run knows its best validation
   * loss and how long it has waited for a better one. Absent in checkpoints written before it existed.
   */
  bestEvaluation: z
    .object({
      step: z.number().int().nonnegative(),
      valLoss: z.number(),
      score: z.number(),
      evalsSinceBest: z.number().int().nonnegative(),
    })
    .nullable()
    .optional(),
  sampler: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('tokens'),
      random: z.tuple([z.number(), z.number(), z.number(), z.number(), z.number().nullable()]),
    }),
    z.object({
      kind: z.literal('rows'),
      epoch: z.number().int().nonnegative(),
      position: z.number().int().nonnegative(),
    }),
  ]),
  weightsManifest: z
    .array(
      z.object({
        paths: z.tuple([z.literal('weights.bin')]),
        weights: z
          .array(
            z.object({
              name: z.string().max(200),
              shape: z
                .array(
                  z
                    .number()
                    .int()
                    .nonnegative()
                    .max(2 ** 31),
                )
                .max(8),
              dtype: z.literal('float32'),
            }),
          )
          .max(10_000),
      }),
    )
    .max(1),
});

/**
 * Bytes sent to the main side: over Electron's IPC as they are; from a browser, first POSTed to /upload
 * (a JSON call cannot carry them), then named by the upload's id.
 */
export type CheckpointManifest = z.infer<typeof CheckpointManifest>;

export const BytesSource = z.union([
  z.object({ bytes: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'bytes, not JSON') }).strict(),
  z.object({ uploadId: z.string().regex(/^[a-z0-9]{16,64}$/) }).strict(),
]);
export type BytesSource = z.infer<typeof BytesSource>;
