import { Random } from '../random';
import { wasmThreads } from './backend';
import { RowSampler, TokenSampler } from './data';
import { gptSmall, gptSmallBatch } from './ladder';
import { createGpt } from './models/gpt';
import { createMlp } from './models/mlp';
import type { Model } from './models/model';
import { tf } from './tf';
import { defaultTrainerOptions, Trainer } from './trainer';

/**
 * Training throughput of the engine against a naive loop as a typical tfjs user writes it
 * (optimizer.minimize each step, the loss read with dataSync() each step), same model, same backend,
 * same process. Runs in Node (CLI) and in the app's worker alike.
 */

export type BenchModel = 'gpt-small' | 'mlp';

export interface LoopFigures {
  tokensPerSec: number;
  gflops: number;
  backend: string;
  /** peak bytes held by tensors during two steps; null where it cannot be measured (WebGPU, see peakOf) */
  peakBytes: number | null;
}

export interface TrainingBench {
  model: BenchModel;
  steps: number;
  params: number;
  flopsPerToken: number;
  engine: LoopFigures;
  baseline: LoopFigures;
  /** engine tokens/s over baseline tokens/s */
  ratio: number;
  /** the threads WASM computed with (1 where the page is not cross-origin isolated, and in Node); null on
   * other backends */
  wasmThreads: number | null;
}

interface Setup {
  model: Model;
  sampler: () => TokenSampler | RowSampler;
  batchSize: number;
}

function setup(kind: BenchModel, seed: number): Setup {
  if (kind === 'gpt-small') {
    const random = new Random(seed);
    const tokens = new Uint8Array(1 << 18).map(() => 97 + random.int(26));
    const embedding = tf.getBackend() === 'wasm' ? 'onehot' : 'gather';
    return {
      model: createGpt({ ...gptSmall, embedding }, seed),
      sampler: () => new TokenSampler(tokens, gptSmall.contextLength, gptSmallBatch, seed),
      batchSize: gptSmallBatch,
    };
  }
  const random = new Random(seed);
  const rows = new Float32Array(20_000 * 17).map(() => random.normal());
  return {
    model: createMlp(
      { inputs: 16, width: 256, depth: 3, activation: 'tanh', dropout: 0, task: 'regression', outputs: 1 },
      seed,
    ),
    sampler: () => new RowSampler(rows, 16, 256, seed, false),
    batchSize: 256,
  };
}

const now = () => performance.now() / 1000;

/**
 * Peak tensor memory over `work`, from tf.profile. Not on WebGPU: in Chromium 156 (tfjs-backend-webgpu
 * 4.22, in a worker) a profiled step leaves the device unable to map buffers ("A valid external Instance
 * reference no longer exists"), and every later read then hangs.
 */
async function peakOf(work: () => unknown): Promise<number | null> {
  if (tf.getBackend() === 'webgpu') {
    await work();
    return null;
  }
  return (await tf.profile(async () => void (await work()))).peakBytes;
}

async function engineLoop(kind: BenchModel, steps: number): Promise<LoopFigures> {
  const { model, sampler, batchSize } = setup(kind, 1);
  const run = async (planned: number) => {
    const trainer = new Trainer(
      model,
      sampler(),
      { ...defaultTrainerOptions, batchSize, plannedSteps: planned, evalSteps: [], readLossEvery: 10 },
      {
        evaluate: async () => 0,
      },
    );
    const started = now();
    await trainer.run();
    trainer.dispose();
    return now() - started;
  };
  await run(1); // compile kernels and shaders outside the timing
  const seconds = await run(steps);
  const peakBytes = await peakOf(() => run(2));
  const tokensPerSec = (steps * model.itemsPerBatch(batchSize)) / seconds;
  const figures = {
    tokensPerSec,
    gflops: (tokensPerSec * model.flops.perToken) / 1e9,
    backend: tf.getBackend(),
    peakBytes,
  };
  model.dispose();
  return figures;
}

async function naiveLoop(kind: BenchModel, steps: number): Promise<LoopFigures> {
  const { model, sampler, batchSize } = setup(kind, 1);
  const optimizer = tf.train.adam(1e-3);
  const batches = sampler();
  const step = () => {
    const batch = batches.next();
    const loss = optimizer.minimize(() => model.loss(batch, true, 0), true) as tf.Scalar;
    loss.dataSync();
    tf.dispose([loss, batch.x, batch.y]);
  };
  step();
  const started = now();
  for (let i = 0; i < steps; i++) step();
  const seconds = now() - started;
  const peakBytes = await peakOf(() => {
    step();
    step();
  });
  const tokensPerSec = (steps * model.itemsPerBatch(batchSize)) / seconds;
  optimizer.dispose();
  model.dispose();
  return {
    tokensPerSec,
    gflops: (tokensPerSec * model.flops.perToken) / 1e9,
    backend: tf.getBackend(),
    peakBytes,
  };
}

export async function benchTraining(kind: BenchModel, steps: number): Promise<TrainingBench> {
  const { model } = setup(kind, 1);
  const params = model.paramCount.total;
  const flopsPerToken = model.flops.perToken;
  model.dispose();
  // The engine first, so that nothing the naive loop does to the device (dataSync reads on WebGPU go
  // through a canvas) can slow the engine's figure.
  const engine = await engineLoop(kind, steps);
  const baseline = await naiveLoop(kind, steps);
  return {
    model: kind,
    steps,
    params,
    flopsPerToken,
    engine,
    baseline,
    ratio: engine.tokensPerSec / baseline.tokensPerSec,
    wasmThreads: wasmThreads(),
  };
}
