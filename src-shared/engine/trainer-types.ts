import type { CheckpointManifest, MetricRow } from '../contract/runs';
import { type AdamWOptions, defaultAdamW } from './adamw';
import type { SamplerState } from './data';

/** What the trainer is given and gives back: options, metrics, results, checkpoints, hooks. */

export interface TrainerOptions {
  batchSize: number;
  /** the cosine runs over exactly these steps */
  plannedSteps: number;
  peakLearningRate: number;
  warmupSteps: number;
  minLearningRateRatio: number;
  adamw: AdamWOptions;
  /** global gradient-norm clip; null for none */
  gradClip: number | null;
  l1: number;
  l2: number;
  seed: number;
  readLossEvery: number;
  /** steps after which to evaluate on the validation split (the last step always is) */
  evalSteps: number[];
  /** checkpoint every this many steps (a multiple of readLossEvery); 0 for only at the end */
  checkpointEvery: number;
  budget: { tokens?: number; flops?: number; wallSeconds?: number };
  /** a read loss above this multiple of the best so far (after warmup) counts as divergence */
  spikeFactor: number;
  /**
   * Stop when the metric (validation loss by default; accuracy for classification) has not improved by
   * `minDelta` for `patience` evaluations; with `restoreBest` the weights go back to the best
   * evaluation's (and so does the final checkpoint).
   */
  earlyStopping: {
    patience: number;
    minDelta: number;
    restoreBest: boolean;
    metric?: 'valLoss' | 'valAccuracy';
  } | null;
}

export const defaultTrainerOptions: Omit<TrainerOptions, 'batchSize' | 'plannedSteps' | 'evalSteps'> = {
  peakLearningRate: 1e-3,
  warmupSteps: 0,
  minLearningRateRatio: 0.1,
  adamw: defaultAdamW,
  gradClip: 1,
  l1: 0,
  l2: 0,
  seed: 1,
  readLossEvery: 10,
  checkpointEvery: 0,
  budget: {},
  spikeFactor: 4,
  earlyStopping: null,
};

/** One row of a run's metrics, as the trainer measures it and metrics.jsonl stores it (the contract's MetricRow). */
export type Metrics = MetricRow;

export type StopReason =
  | 'planned steps done'
  | 'token budget'
  | 'FLOP budget'
  | 'time limit'
  | 'stopped on request'
  | 'early stopping';

export interface TrainResult {
  status: 'completed' | 'stopped' | 'diverged';
  reason: StopReason | 'loss is not finite' | 'loss spiked';
  step: number;
  tokens: number;
  flops: number;
  wallSeconds: number;
  trainLoss: number | null;
  valLoss: number | null;
  /** the step whose read showed the divergence */
  divergedAt: number | null;
  /** the evaluation with the lowest validation loss */
  bestStep: number | null;
  bestValLoss: number | null;
}

export interface Checkpoint {
  step: number;
  tokens: number;
  flops: number;
  wallSeconds: number;
  adamStep: number;
  bestLoss: number | null;
  /** the best evaluation so far and the evaluations since (early stopping's patience), if any */
  bestEvaluation?: CheckpointManifest['bestEvaluation'];
  sampler: SamplerState;
  /** parameters, then AdamW's first and second moments, by the model's own names */
  tensors: Array<{ name: string; shape: number[]; values: Float32Array }>;
}

/** One part of a batch as arrays, to send to another thread. */
export interface BatchPart {
  x: { values: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
  y: { values: Float32Array | Int32Array; shape: number[]; dtype: 'float32' | 'int32' };
}

/** What a helper sends back for its part: the part's mean loss and its gradients, in parameter order. */
export interface PartGradients {
  loss: number;
  grads: Float32Array[];
}

/**
 * Data parallelism: threads beside the trainer's, each with its own copy of the model (the Node host's
 * `training/gradient-helpers.ts`). Each step the batch is split into `count + 1` parts by rows; the
 * trainer computes the first part's gradients while each helper computes another's with the same
 * weights, and the step applies their weighted mean: the full batch's gradient.
 */
export interface GradientHelpers {
  readonly count: number;
  /**
   * Each part's loss and gradients, parts[k] on helper k, at these weights (parameter order). The arrays
   * are handed over: their buffers may be moved to the helpers' threads (transferred), so pass copies.
   */
  compute(weights: Float32Array[], parts: BatchPart[], dropoutSeeds: number[]): Promise<PartGradients[]>;
}

export interface TrainerHooks {
  evaluate(): Promise<number>;
  /** classification: validation accuracy, measured at the same evaluations */
  evaluateAccuracy?(): Promise<number | null>;
  onMetrics?(metrics: Metrics): void | Promise<void>;
  onCheckpoint?(checkpoint: Checkpoint): void | Promise<void>;
  now?(): number;
  /** threads that compute parts of each batch (data parallelism); without them the trainer computes it all */
  helpers?: GradientHelpers;
}
