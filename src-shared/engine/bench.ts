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
  /** peak bytes of the buffers tensors hold during two steps, each buffer counted once (see peakBufferBytes) */
  peakBytes: number;
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

/** The two engine methods through which tensor buffers come and go (tfjs-core 4.x). */
interface EngineBuffers {
  trackTensor(tensor: { dataId: object }, backend: unknown): void;
  removeDataId(dataId: object, backend: unknown): void;
  state: { tensorInfo: WeakMap<object, { bytes: number }> };
}

/**
 * Peak bytes of the buffers tensors hold while `work` runs, each buffer counted once. tf.profile's
 * peakBytes counts a buffer once per tensor that views it (every reshape and identity of a gradient
 * tape), which read 1.9 GB for gpt-small; this watches the engine add and drop buffers instead. It reads
 * nothing from the device, so it runs on WebGPU too, where a tf.profile'd step broke the device (Chromium
 * 156, tfjs-backend-webgpu 4.22 in a worker: "A valid external Instance reference no longer exists").
 * Between steps every live tensor (weights, moments, constants) has its own buffer, so the bytes alive
 * when `work` starts are `tf.memory().numBytes`.
 */
export async function peakBufferBytes(work: () => unknown): Promise<number> {
  const engine = tf.engine() as unknown as EngineBuffers;
  const info = engine.state.tensorInfo;
  const { trackTensor, removeDataId } = engine;
  let live = tf.memory().numBytes;
  let peak = live;
  engine.trackTensor = function (tensor, backend) {
    const fresh = !info.has(tensor.dataId);
    trackTensor.call(this, tensor, backend);
    if (fresh) {
      live += info.get(tensor.dataId)?.bytes ?? 0;
      if (live > peak) peak = live;
    }
  };
  engine.removeDataId = function (dataId, backend) {
    const entry = info.get(dataId);
    removeDataId.call(this, dataId, backend);
    if (entry && !info.has(dataId)) live -= entry.bytes;
  };
  try {
    await work();
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
  return peak;
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
  const peakBytes = await peakBufferBytes(() => run(2));
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
  const peakBytes = await peakBufferBytes(() => {
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
