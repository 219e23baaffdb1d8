import { AdamW } from './adamw';
import { sharedStep } from './batch-parts';
import { checkpointTensors, restoreTensors } from './checkpoint';
import type { Sampler } from './data';
import type { Batch, Model } from './models/model';
import { learningRate, type Schedule } from './schedule';
import { type Tensor, tf } from './tf';
import type {
  Checkpoint,
  GradientHelpers,
  StopReason,
  TrainerHooks,
  TrainerOptions,
  TrainResult,
} from './trainer-types';

/**
 * The training loop: tf.variableGrads + AdamW, warmup and cosine over the planned steps, global-norm
 * clipping, L1/L2 penalties, seeded dropout. The hot loop never reads from the device synchronously:
 * losses are summed on the device and read asynchronously every `readLossEvery` steps.
 */

export * from './trainer-types';

const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The mean training loss over the steps of a window that ended at `step`. */
interface LossWindow {
  loss: number;
  step: number;
}

/** Reads a window's summed loss without blocking, and frees it once read. */
function readMean(sum: Tensor, steps: number, step: number): Promise<LossWindow> {
  return sum.data().then(
    (values) => {
      sum.dispose();
      return { loss: (values[0] as number) / steps, step };
    },
    (error: unknown) => {
      sum.dispose();
      throw error;
    },
  );
}

export class Trainer {
  step = 0;
  tokens = 0;
  flops = 0;
  private wallBefore = 0;
  private bestLoss: number | null = null;
  /** the first training loss read (since the start, or since a resume) */
  private firstLoss: number | null = null;
  private readonly optimizer: AdamW;
  private readonly schedule: Schedule;
  private readonly evalSteps: Set<number>;
  private stopRequested = false;
  private pauseGate: { promise: Promise<void>; open(): void } | null = null;
  private lastTrainLoss: number | null = null;
  /** the step whose window's loss diverged */
  private divergedAt = 0;
  private lastValLoss: number | null = null;
  private best: { step: number; valLoss: number; score: number; weights: Tensor[] | null } | null = null;
  private evalsSinceBest = 0;
  private readonly now: () => number;
  /** a helper failed: the rest of the run computes each batch here */
  private helpersFailed = false;

  constructor(
    private readonly model: Model,
    private readonly sampler: Sampler,
    private readonly options: TrainerOptions,
    private readonly hooks: TrainerHooks,
  ) {
    if (options.checkpointEvery % options.readLossEvery !== 0) {
      throw new RangeError('checkpointEvery must be a multiple of readLossEvery');
    }
    this.optimizer = new AdamW(model.parameters, options.adamw);
    this.schedule = {
      peak: options.peakLearningRate,
      warmupSteps: options.warmupSteps,
      totalSteps: options.plannedSteps,
      minRatio: options.minLearningRateRatio,
    };
    this.evalSteps = new Set([...options.evalSteps, options.plannedSteps]);
    this.now = hooks.now ?? (() => performance.now() / 1000);
  }

  get tokensPerStep(): number {
    return this.model.itemsPerBatch(this.options.batchSize);
  }

  requestStop(): void {
    this.stopRequested = true;
    this.pauseGate?.open();
  }

  pause(): void {
    if (this.pauseGate) return;
    let open: () => void = () => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.pauseGate = { promise, open };
  }

  resume(): void {
    const gate = this.pauseGate;
    this.pauseGate = null;
    gate?.open();
  }

  private stopReason(startedAt: number): StopReason | null {
    const { budget, plannedSteps } = this.options;
    if (this.stopRequested) return 'stopped on request';
    if (this.step >= plannedSteps) return 'planned steps done';
    if (budget.tokens !== undefined && this.tokens + this.tokensPerStep > budget.tokens) return 'token budget';
    if (budget.flops !== undefined && this.flops + this.tokensPerStep * this.model.flops.perToken > budget.flops)
      return 'FLOP budget';
    if (budget.wallSeconds !== undefined && this.wallBefore + this.now() - startedAt >= budget.wallSeconds)
      return 'time limit';
    return null;
  }

  /**
   * The step's dropout seed; a batch part's is offset by a large prime, clear of the offsets the models
   * add per layer (so no part's layer shares another part's masks).
   */
  private dropoutSeed(part = 0): number {
    return this.options.seed * 1_000_003 + this.step * 101 + part * 7_919_003;
  }

  /** The batch's loss (times `weight`: a part's share of the batch) plus the L1/L2 penalties. */
  private lossWithPenalties(batch: Batch, weight = 1): tf.Scalar {
    const { l1, l2 } = this.options;
    let loss: Tensor = this.model.loss(batch, true, this.dropoutSeed());
    if (weight !== 1) loss = tf.mul(loss, weight);
    for (const p of this.model.parameters) {
      if (!p.decay) continue;
      if (l2 > 0) loss = tf.add(loss, tf.mul(l2, tf.sum(tf.square(p.variable))));
      if (l1 > 0) loss = tf.add(loss, tf.mul(l1, tf.sum(tf.abs(p.variable))));
    }
    return loss as tf.Scalar;
  }

  /** One optimizer step; returns the batch loss, still on the device. */
  private trainStep(batch: Batch, lr: number): Tensor {
    return tf.tidy(() => {
      const variables = this.model.parameters.map((p) => p.variable);
      const { value, grads } = tf.variableGrads(() => this.lossWithPenalties(batch), variables);
      this.optimizer.apply(
        variables.map((v) => grads[v.name] as Tensor),
        lr,
        this.options.gradClip,
      );
      return value;
    });
  }

  /**
   * One optimizer step with the batch split among this thread and the helpers (data parallelism): each
   * part's mean loss weighted by its share of the rows, so the sum is the full batch's mean loss and its
   * gradient the full batch's. A helper that fails ends data parallelism for this run: the step is
   * computed here whole, as are the steps after it.
   */
  private async trainStepShared(batch: Batch, lr: number, helpers: GradientHelpers): Promise<Tensor> {
    const value = await sharedStep(
      batch,
      helpers,
      this.model.parameters.map((p) => p.variable),
      {
        loss: (part, share) => this.lossWithPenalties(part, share),
        seed: (part) => this.dropoutSeed(part),
        apply: (grads) => this.optimizer.apply(grads, lr, this.options.gradClip),
      },
    );
    if (value) return value;
    this.helpersFailed = true;
    return this.trainStep(batch, lr);
  }

  async run(): Promise<TrainResult> {
    const startedAt = this.now();
    let lossSum: Tensor = tf.scalar(0);
    let summed = 0;
    let windowStart = { time: startedAt, tokens: this.tokens };
    let stop: StopReason | null = null as StopReason | null;
    let diverged: TrainResult['reason'] | null = null;
    /** a window's mean loss still being read, judged at the next read */
    let ahead: Promise<LossWindow> | null = null;
    try {
      for (;;) {
        if (stop === 'early stopping') break;
        stop = this.stopReason(startedAt);
        if (stop) break;
        if (this.pauseGate) {
          await this.pauseGate.promise;
          continue;
        }
        const lr = learningRate(this.step, this.schedule);
        const batch = this.sampler.next();
        const helpers = this.hooks.helpers;
        const loss =
          helpers && !this.helpersFailed ? await this.trainStepShared(batch, lr, helpers) : this.trainStep(batch, lr);
        tf.dispose([batch.x, batch.y]);
        const nextSum = tf.add(lossSum, loss);
        tf.dispose([lossSum, loss]);
        lossSum = nextSum;
        summed++;
        this.step++;
        this.tokens += this.tokensPerStep;
        this.flops += this.tokensPerStep * this.model.flops.perToken;

        const evalNow = this.evalSteps.has(this.step);
        const lastPlanned = this.step >= this.options.plannedSteps;
        if (this.step % this.options.readLossEvery !== 0 && !evalNow && !lastPlanned) continue;

        const { checkpointEvery } = this.options;
        const checkpointNow = checkpointEvery > 0 && this.step % checkpointEvery === 0 && !!this.hooks.onCheckpoint;
        const read = readMean(lossSum, summed, this.step);
        lossSum = tf.scalar(0);
        summed = 0;
        // The window before's loss, long read by now, is judged first.
        if (ahead) {
          diverged = this.judge(await ahead);
          ahead = null;
          if (diverged) {
            void read.catch(() => undefined);
            break;
          }
        }
        if (!evalNow && !lastPlanned && !checkpointNow) {
          // Nothing this step needs the loss: read it while the next window's steps are queued, so that
          // the device never waits for the read (on a GPU a read's latency would idle it every window).
          ahead = read;
          await yieldToEvents();
          continue;
        }
        const window = await read;
        diverged = this.judge(window);
        if (diverged) break;
        const trainLoss = window.loss;
        if (evalNow || lastPlanned) {
          const valLoss = await this.hooks.evaluate();
          const valAccuracy = (await this.hooks.evaluateAccuracy?.()) ?? null;
          this.lastValLoss = valLoss;
          if (this.noteEvaluation(valLoss, valAccuracy)) stop = 'early stopping';
          const time = this.now();
          const seconds = Math.max(1e-9, time - windowStart.time);
          const tokensPerSecond = (this.tokens - windowStart.tokens) / seconds;
          windowStart = { time, tokens: this.tokens };
          await this.hooks.onMetrics?.({
            step: this.step,
            tokens: this.tokens,
            flops: this.flops,
            trainLoss,
            valLoss,
            valAccuracy,
            learningRate: lr,
            tokensPerSecond,
            flopsPerSecond: tokensPerSecond * this.model.flops.perToken,
            wallSeconds: this.wallBefore + time - startedAt,
          });
        }
        if (stop === 'early stopping') break;
        if (checkpointNow) await this.hooks.onCheckpoint?.(await this.checkpoint(startedAt));
        // Let messages in (stop, pause) between bursts of steps.
        await yieldToEvents();
      }
      if (ahead && !diverged) diverged = this.judge(await ahead);
    } finally {
      lossSum.dispose();
      // A read still in flight frees its tensor when it lands.
      void ahead?.catch(() => undefined);
    }
    const wallSeconds = this.wallBefore + this.now() - startedAt;
    if (stop === 'early stopping' && this.best?.weights) {
      // Restore the best evaluation's weights: the final checkpoint is the best model.
      const weights = this.best.weights;
      for (const [i, p] of this.model.parameters.entries()) p.variable.assign(weights[i] as Tensor);
      this.lastValLoss = this.best.valLoss;
    }
    if (!diverged && this.hooks.onCheckpoint) await this.hooks.onCheckpoint(await this.checkpoint(startedAt));
    return {
      status: diverged ? 'diverged' : stop === 'stopped on request' || stop === 'time limit' ? 'stopped' : 'completed',
      reason: diverged ?? (stop as StopReason),
      step: this.step,
      tokens: this.tokens,
      flops: this.flops,
      wallSeconds,
      trainLoss: this.lastTrainLoss,
      valLoss: this.lastValLoss,
      divergedAt: diverged ? this.divergedAt : null,
      bestStep: this.best?.step ?? null,
      bestValLoss: this.best?.valLoss ?? null,
    };
  }

  /**
   * Tracks the best evaluation by the early-stopping metric (validation loss, or accuracy where asked and
   * measured); true when early stopping says stop. `best.valLoss` is the validation loss at that evaluation.
   */
  private noteEvaluation(valLoss: number, valAccuracy: number | null): boolean {
    const early = this.options.earlyStopping;
    const minDelta = early?.minDelta ?? 0;
    const byAccuracy = early?.metric === 'valAccuracy' && valAccuracy !== null;
    // Lower is better: the loss, or the accuracy's complement.
    const score = byAccuracy ? 1 - (valAccuracy as number) : valLoss;
    if (this.best === null || score < this.best.score - minDelta) {
      if (this.best?.weights) tf.dispose(this.best.weights);
      const weights = early?.restoreBest ? this.model.parameters.map((p) => tf.keep(tf.clone(p.variable))) : null;
      this.best = { step: this.step, valLoss, score, weights };
      this.evalsSinceBest = 0;
      return false;
    }
    this.evalsSinceBest++;
    return early !== null && this.evalsSinceBest >= early.patience;
  }

  /** Records a window's loss as the last read and says whether the run diverged there. */
  private judge(window: LossWindow): TrainResult['reason'] | null {
    this.lastTrainLoss = window.loss;
    const diverged = this.divergence(window.loss, window.step);
    if (diverged) this.divergedAt = window.step;
    return diverged;
  }

  /**
   * A spike is a loss `spikeFactor` times the best so far that is also above the first loss read: near
   * zero (a separable classification at 0.005) a noisy batch can be many times the best without the run
   * having gone anywhere, while a diverging run climbs back past where it started.
   */
  private divergence(loss: number, step: number): TrainResult['reason'] | null {
    if (!Number.isFinite(loss)) return 'loss is not finite';
    this.firstLoss ??= loss;
    if (
      step > this.options.warmupSteps &&
      this.bestLoss !== null &&
      loss > this.options.spikeFactor * this.bestLoss &&
      loss > this.firstLoss
    ) {
      return 'loss spiked';
    }
    if (this.bestLoss === null || loss < this.bestLoss) this.bestLoss = loss;
    return null;
  }

  async checkpoint(startedAt = this.now()): Promise<Checkpoint> {
    const tensors = await checkpointTensors(this.model.parameters, await this.optimizer.moments());
    return {
      step: this.step,
      tokens: this.tokens,
      flops: this.flops,
      wallSeconds: this.wallBefore + this.now() - startedAt,
      adamStep: this.optimizer.step,
      bestLoss: this.bestLoss,
      bestEvaluation: this.best
        ? {
            step: this.best.step,
            valLoss: this.best.valLoss,
            score: this.best.score,
            evalsSinceBest: this.evalsSinceBest,
          }
        : null,
      sampler: this.sampler.state(),
      tensors,
    };
  }

  /** Puts the model, optimizer and sampler back where a checkpoint left them. */
  restore(checkpoint: Checkpoint): void {
    this.optimizer.setMoments(restoreTensors(checkpoint, this.model.parameters));
    this.optimizer.step = checkpoint.adamStep;
    this.step = checkpoint.step;
    this.tokens = checkpoint.tokens;
    this.flops = checkpoint.flops;
    this.wallBefore = checkpoint.wallSeconds;
    this.bestLoss = checkpoint.bestLoss;
    // The best evaluation's weights are not in the checkpoint: early stopping with restoreBest after a resume
    // goes back to the best since the resume (or keeps the last weights if none beat the saved best).
    if (this.best?.weights) tf.dispose(this.best.weights);
    const best = checkpoint.bestEvaluation ?? null;
    this.best = best ? { step: best.step, valLoss: best.valLoss, score: best.score, weights: null } : null;
    this.evalsSinceBest = best?.evalsSinceBest ?? 0;
    this.sampler.restore(checkpoint.sampler);
  }

  dispose(): void {
    this.optimizer.dispose();
    if (this.best?.weights) tf.dispose(this.best.weights);
  }
}

/** Mean loss over fixed batches, read asynchronously. */
