import type { BackendName } from '../../contract/backend';
import type { DatasetManifest } from '../../contract/datasets';
import type { CheckpointManifest, MetricRow, ModelSpec, RunRecord } from '../../contract/runs';
import { encodeCheckpoint } from '../checkpoint';
import { activationLogLine } from '../memory';
import { createModel, evaluationHooks, prepareRunData, type ReadSplit, trainerOptions } from '../run-data';
import { type Checkpoint, type GradientHelpers, Trainer, type TrainResult } from '../trainer';
import { prunedReason, type RunEnd } from './run-status';

/**
 * One run from claim to end, the same on every host: resume from the latest checkpoint (the best loss
 * comes back with it), stream metrics and checkpoints to the host, move to another backend when the GPU
 * fails mid-run, and say how it ended. The host provides the ports: a sink (the store, directly in Node or
 * over the API from the app's worker), a split reader, and a backend policy. docs/architecture.md draws it.
 */

export interface BackendChoice {
  backend: BackendName;
  /** the adapter (GPU) or WASM's threads, as the run's environment records it */
  adapter: string | null;
}

export interface DeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}

/** Which backend trains, and what happens when it fails mid-run. */
export interface BackendPolicy {
  /** Starts the backend to train on. */
  start(): Promise<BackendChoice>;
  /** `failed` stopped mid-run (its device was lost, a GPU call failed): the backend to go on with, or null. */
  fallback(failed: BackendName): Promise<BackendChoice | null>;
  /** The GPU device training uses now, whose loss stops the trainer; null where there is none. */
  device(): DeviceLike | null;
  /**
   * Threads that share each batch of a run of `spec` on `backend` (data parallelism), or null to train on
   * this thread alone; closed when the run ends. WASM has them in Node and in the app (engine/gradient-pool.ts).
   */
  helpers?(
    backend: BackendName,
    spec: ModelSpec,
    seed: number,
    batchSize: number,
  ): Promise<(GradientHelpers & { close(): Promise<void> }) | null>;
}

/** Where a run's progress goes. Calls come one after another, in order; a failing one stops the run. */
export interface RunSink {
  /**
   * The run trains from `fromStep` (0: the start): it becomes running on `backend`, its metrics past
   * `fromStep` are dropped (from 0, its checkpoints too), and `notes` go to its log.
   */
  start(start: BackendChoice & { fromStep: number; notes: string[] }): Promise<void>;
  appendMetrics(row: MetricRow): Promise<void>;
  saveCheckpoint(manifest: CheckpointManifest, weights: Uint8Array): Promise<void>;
  finish(end: RunEnd): Promise<void>;
}

export interface SessionInput {
  /** the run as the store has it now: queued, or interrupted/running to resume */
  run: RunRecord;
  dataset: DatasetManifest;
  read: ReadSplit;
  /** the run's latest checkpoint; asked only when the run resumes */
  latestCheckpoint(): Promise<Checkpoint | null>;
  sink: RunSink;
  backends: BackendPolicy;
  /** after each evaluation with a validation loss: true stops the run as cancelled (a study's pruner) */
  prune?(metrics: MetricRow): Promise<boolean>;
  /** each metrics row as it is measured (a progress bar); a fallback's restart is a row with a lower step */
  onMetrics?(metrics: MetricRow): void;
  /** fault injection (tests): destroy the GPU device once training passes this step */
  loseDeviceAtStep?: number | null;
}

/** The run log's line for a run whose batches `threads` threads share. */
const dataParallelNote = (threads: number, batchSize: number) =>
  `Data parallel on ${threads} threads: each batch of ${batchSize} is split ${threads} ways, each part's gradients computed by its own copy of the model.`;

/** Tfjs's WASM backend has no gradient for gather: a GPT there embeds with a one-hot matmul. */
export function modelSpecFor(spec: ModelSpec, backend: BackendName): ModelSpec {
  return spec.family === 'gpt' && backend === 'wasm' && spec.embedding !== 'onehot'
    ? { ...spec, embedding: 'onehot' }
    : spec;
}

/** The sink's calls, one after another; the first that fails stops the run and is what it records. */
class Writes {
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(private readonly onFailure: () => void) {}

  add(write: () => Promise<unknown>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await write();
      } catch (error) {
        this.failure = { error };
        this.onFailure();
      }
    });
  }

  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure.error;
  }
}

type Attempt = { ok: true; result: TrainResult } | { ok: false; failure: string; error: unknown; lastStep: number };

export class RunSession {
  private trainer: Trainer | null = null;
  /** how a stop asked for ends the run: paused (resumes later) or cancelled */
  private stopAs: 'interrupted' | 'cancelled' | null = null;
  /** the pruner, not a person, cancelled it */
  private pruned = false;
  /** threads sharing each batch, while the run trains (BackendPolicy.helpers) */
  private helpers: (GradientHelpers & { close(): Promise<void> }) | null = null;
  /** the last checkpoint taken, where a fallback goes on from */
  private checkpoint: Checkpoint | null = null;
  private readonly read: ReadSplit;

  constructor(private readonly input: SessionInput) {
    // Read once: a start on the next backend after a fallback reads the same bytes (samplers only index them).
    const buffers = new Map<'train' | 'val', Promise<ArrayBuffer>>();
    this.read = (split) => {
      let buffer = buffers.get(split);
      if (!buffer) {
        buffer = input.read(split);
        buffers.set(split, buffer);
      }
      return buffer;
    };
  }

  /** Stops the run at its next step as interrupted: it resumes from its last checkpoint. */
  pause(): void {
    this.stopAs ??= 'interrupted';
    this.trainer?.requestStop();
  }

  /** Stops the run at its next step as cancelled. */
  cancel(): void {
    this.stopAs = 'cancelled';
    this.trainer?.requestStop();
  }

  /**
   * Trains the run to its end and records that end; resolves with it (a failure in training is an end
   * too). Until the sink has taken the start (a run another process trains is refused there), an error
   * is thrown and nothing is recorded.
   */
  async run(): Promise<RunEnd> {
    const { run, sink, backends } = this.input;
    const resumes = run.status === 'interrupted' || run.status === 'running';
    this.checkpoint = resumes ? await this.input.latestCheckpoint() : null;
    const choice = await backends.start();
    const notes: string[] = [];
    if (this.checkpoint)
      notes.push(`Resumed on ${choice.backend} from its checkpoint at step ${this.checkpoint.step}.`);
    else if (resumes) notes.push(`Started again on ${choice.backend} from step 0: it had no checkpoint.`);
    const memory = activationLogLine(run);
    if (memory !== null) notes.push(memory);
    const { seed, batchSize, model } = run.config;
    this.helpers =
      (await backends.helpers?.(choice.backend, modelSpecFor(model, choice.backend), seed, batchSize)) ?? null;
    try {
      if (this.helpers) notes.push(dataParallelNote(this.helpers.count + 1, batchSize));
      await sink.start({ ...choice, fromStep: this.checkpoint?.step ?? 0, notes });
      let end: RunEnd;
      try {
        end = await this.train(choice);
      } catch (error) {
        end = { status: 'failed', result: null, error: error instanceof Error ? error.message : String(error) };
      }
      await sink.finish(end);
      return end;
    } finally {
      await this.helpers?.close();
      this.helpers = null;
    }
  }

  private async train(first: BackendChoice): Promise<RunEnd> {
    const { run, sink, backends } = this.input;
    let choice = first;
    const writes = new Writes(() => this.trainer?.requestStop());
    for (;;) {
      const attempt = await this.attempt(choice, writes);
      await writes.flush();
      if (attempt.ok) return this.endOf(attempt.result);
      const next = this.stopAs === null ? await backends.fallback(choice.backend) : null;
      if (!next) {
        if (this.stopAs !== null && choice.backend === 'webgpu')
          throw new Error(`${run.name} was stopped while WebGPU failed (${attempt.failure}).`);
        throw attempt.error;
      }
      const fromStep = this.checkpoint?.step ?? 0;
      const message =
        `${choice.backend === 'webgpu' ? 'WebGPU' : choice.backend} stopped at step ${attempt.lastStep}: ` +
        `${attempt.failure}. The run goes on with ${next.backend} from ` +
        (fromStep > 0 ? `its checkpoint at step ${fromStep}.` : 'the start (it had no checkpoint yet).');
      const notes = [message];
      // The backend it goes on with may share batches where the first did not (WASM).
      if (!this.helpers) {
        const { seed, batchSize, model } = run.config;
        this.helpers =
          (await backends.helpers?.(next.backend, modelSpecFor(model, next.backend), seed, batchSize)) ?? null;
        if (this.helpers) notes.push(dataParallelNote(this.helpers.count + 1, batchSize));
      }
      writes.add(() => sink.start({ ...next, fromStep, notes }));
      choice = next;
    }
  }

  /** One try on one backend: its result, or why the backend failed. */
  private async attempt(choice: BackendChoice, writes: Writes): Promise<Attempt> {
    const { run, dataset, sink, prune, loseDeviceAtStep } = this.input;
    const model = createModel(modelSpecFor(run.config.model, choice.backend), run.config.seed, run.config.batchSize);
    const device = this.input.backends.device();
    let lost: string | null = null;
    let lastStep = this.checkpoint?.step ?? 0;
    let trainer: Trainer | null = null;
    try {
      const { sampler, evalBatches } = await prepareRunData(dataset, run, this.read);
      trainer = new Trainer(model, sampler, trainerOptions(run), {
        ...evaluationHooks(model, evalBatches),
        ...(this.helpers && choice.backend === 'wasm' ? { helpers: this.helpers } : {}),
        onMetrics: (metrics) => {
          lastStep = metrics.step;
          this.input.onMetrics?.(metrics);
          writes.add(() => sink.appendMetrics(metrics));
          if (prune && metrics.valLoss !== null) {
            writes.add(async () => {
              if (this.stopAs !== 'cancelled' && (await prune(metrics))) {
                this.pruned = true;
                this.cancel();
              }
            });
          }
          if (device && loseDeviceAtStep != null && metrics.step >= loseDeviceAtStep) device.destroy();
        },
        onCheckpoint: (checkpoint) => {
          this.checkpoint = checkpoint;
          const { manifest, weights } = encodeCheckpoint(checkpoint);
          writes.add(() => sink.saveCheckpoint(manifest, weights));
        },
      });
      const live = trainer;
      void device?.lost.then((info) => {
        lost = `its device was lost (${[info.reason, info.message].filter(Boolean).join(': ') || 'no reason given'})`;
        live.requestStop();
      });
      this.trainer = trainer;
      if (this.stopAs !== null) trainer.requestStop();
      if (this.checkpoint) trainer.restore(this.checkpoint);
      const result = await trainer.run();
      if (lost === null) return { ok: true, result };
      return { ok: false, failure: lost, error: new Error(lost), lastStep };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const failure = lost ?? (choice.backend === 'webgpu' ? `a GPU call failed (${message})` : message);
      return { ok: false, failure, error, lastStep };
    } finally {
      this.trainer = null;
      try {
        trainer?.dispose();
        model.dispose();
      } catch {
        // Tensors of a lost device may refuse to go; the backend is left behind anyway.
      }
    }
  }

  private endOf(result: TrainResult): RunEnd {
    const stopped = result.reason === 'stopped on request';
    return {
      status: result.status === 'diverged' ? 'diverged' : stopped ? (this.stopAs ?? 'interrupted') : 'completed',
      result: {
        step: result.step,
        tokens: result.tokens,
        flops: result.flops,
        wallSeconds: result.wallSeconds,
        trainLoss: result.trainLoss,
        valLoss: result.valLoss,
        bestValLoss: result.bestValLoss,
        divergedAt: result.divergedAt,
        reason: stopped && this.pruned ? prunedReason : result.reason,
      },
      error: null,
    };
  }
}
