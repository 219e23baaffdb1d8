import type { ModelSpec } from '../contract/runs';
import { Random } from '../random';
import { gptShape, transformerCountBytes } from './accounting';
import { wasmThreads } from './backend';
import { RowSampler, TokenSampler } from './data';
import { fusedKernels, withoutFusedKernels } from './fused-kernels';
import { kernelSwaps, withStockKernels } from './kernels';
import { gptMedium, gptSmall, gptSmallBatch } from './ladder';
import { createGpt } from './models/gpt';
import { createMlp } from './models/mlp';
import type { Model } from './models/model';
import { peakBufferBytes } from './peak-memory';
import { withStockTape } from './tape';
import { tf } from './tf';
import { defaultTrainerOptions, Trainer } from './trainer';
import type { GradientHelpers } from './trainer-types';

/**
 * Training throughput of the engine against a naive loop as a typical tfjs user writes it
 * (optimizer.minimize each step, the loss read with dataSync() each step, stock tfjs kernels), same
 * model, same backend, same process. Runs in Node (CLI) and in the app's worker alike.
 */

export type BenchModel = 'gpt-small' | 'gpt-medium' | 'mlp';

export const defaultRounds = 3;

export interface LoopFigures {
  tokensPerSec: number;
  gflops: number;
  backend: string;
  /** peak bytes of the buffers tensors hold during two steps, each buffer counted once (see peakBufferBytes) */
  peakBytes: number;
}

export interface TrainingBench {
  model: BenchModel;
  /** steps per round */
  steps: number;
  /** alternating rounds of both loops; each loop's figures are from its fastest round */
  rounds: number;
  params: number;
  flopsPerToken: number;
  engine: LoopFigures;
  baseline: LoopFigures;
  /** engine tokens/s over baseline tokens/s */
  ratio: number;
  /** the threads WASM computed with (XNNPACK's pool: 1 in the app, and in Node's data-parallel mode); null on
   * other backends */
  wasmThreads: number | null;
  /** the threads sharing each batch of the engine's loop (data parallelism), or null where one thread computes it */
  dataParallel: number | null;
  /** with data parallelism, the engine's loop on one thread too, in the same alternating rounds: its tokens/s,
   * and the data-parallel loop's speed-up over it */
  oneThread: { tokensPerSec: number; speedup: number } | null;
  /** the stock tfjs kernels the engine replaced on this backend (kernels.ts); the naive loop runs on stock ones */
  kernelSwaps: string[];
  /** for a GPT, the bytes a step needs by count (weights, gradients, AdamW's moments, the activations the
   * backward pass reads: `transformerCountBytes`), to set the peaks beside; null for the MLP */
  countBytes: number | null;
}

interface Setup {
  /** the model's spec, as a run records it (for helper threads that build their own copy) */
  spec: ModelSpec;
  model: Model;
  sampler: () => TokenSampler | RowSampler;
  batchSize: number;
  countBytes: number | null;
}

function setup(kind: BenchModel, seed: number): Setup {
  if (kind === 'gpt-small' || kind === 'gpt-medium') {
    const random = new Random(seed);
    const tokens = new Uint8Array(1 << 18).map(() => 97 + random.int(26));
    const embedding = tf.getBackend() === 'wasm' ? 'onehot' : 'gather';
    const config = { ...(kind === 'gpt-small' ? gptSmall : gptMedium), embedding } as const;
    const model = createGpt(config, seed);
    return {
      spec: { family: 'gpt', ...config },
      model,
      sampler: () => new TokenSampler(tokens, gptSmall.contextLength, gptSmallBatch, seed),
      batchSize: gptSmallBatch,
      countBytes: transformerCountBytes(gptShape(config), model.paramCount.total, gptSmallBatch),
    };
  }
  const random = new Random(seed);
  const rows = new Float32Array(20_000 * 17).map(() => random.normal());
  const mlp = {
    inputs: 16,
    width: 256,
    depth: 3,
    activation: 'tanh',
    dropout: 0,
    task: 'regression',
    outputs: 1,
  } as const;
  return {
    spec: { family: 'mlp', ...mlp },
    model: createMlp(mlp, seed),
    sampler: () => new RowSampler(rows, 16, 256, seed, false),
    batchSize: 256,
    countBytes: null,
  };
}

const now = () => performance.now() / 1000;

/** A loop under test: `time(steps)` trains that many steps and returns the seconds they took. */
interface Loop {
  time(steps: number): Promise<number>;
  /** peak buffer bytes over two steps */
  peak(): Promise<number>;
  dispose(): void;
}

/**
 * Seconds the engine's Trainer takes for `steps` steps of `model` on `sampler`, without evaluations: what
 * the benchmarks and the planner's calibration (calibrate.ts) time.
 */
export async function timeEngineSteps(
  model: Model,
  sampler: TokenSampler | RowSampler,
  batchSize: number,
  steps: number,
  helpers: GradientHelpers | null = null,
): Promise<number> {
  const trainer = new Trainer(
    model,
    sampler,
    { ...defaultTrainerOptions, batchSize, plannedSteps: steps, evalSteps: [], readLossEvery: 10 },
    { evaluate: async () => 0, ...(helpers ? { helpers } : {}) },
  );
  const started = now();
  try {
    await trainer.run();
  } finally {
    trainer.dispose();
  }
  return now() - started;
}

function engineLoop(
  model: Model,
  sampler: () => TokenSampler | RowSampler,
  batchSize: number,
  helpers: GradientHelpers | null,
): Loop {
  const time = (steps: number) => timeEngineSteps(model, sampler(), batchSize, steps, helpers);
  // The peak of one thread training the whole batch: with helpers, each thread holds a copy of the model
  // and its part's activations, which this process's tensor count does not see.
  const peak = () => peakBufferBytes(() => timeEngineSteps(model, sampler(), batchSize, 2, null));
  return { time, peak, dispose: () => model.dispose() };
}

function naiveLoop(model: Model, sampler: () => TokenSampler | RowSampler): Loop {
  const optimizer = tf.train.adam(1e-3);
  const batches = sampler();
  const step = () => {
    const batch = batches.next();
    const loss = optimizer.minimize(() => model.loss(batch, true, 0), true) as tf.Scalar;
    loss.dataSync();
    tf.dispose([loss, batch.x, batch.y]);
  };
  // On stock tfjs kernels and tfjs's own tape, as a tfjs user's loop runs: the engine's kernel swaps,
  // fused WebGPU kernels and freeing tape are the engine's.
  const time = (steps: number) =>
    withStockKernels(() =>
      withoutFusedKernels(() =>
        withStockTape(() => {
          const started = now();
          for (let i = 0; i < steps; i++) step();
          return now() - started;
        }),
      ),
    );
  return {
    time,
    peak: () => peakBufferBytes(() => time(2)),
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** A bench model's spec, as a run records it (helper threads build their own copy from it). */
export function benchSpec(kind: BenchModel): { spec: ModelSpec; batchSize: number } {
  const { spec, model, batchSize } = setup(kind, 1);
  model.dispose();
  return { spec, batchSize };
}

/**
 * The engine's training loop on a bench model, for comparisons made elsewhere (`isoflop bench --vs-torch`),
 * with `helpers` sharing each batch where given (data parallelism).
 */
export function engineBench(
  kind: BenchModel,
  helpers: GradientHelpers | null = null,
): {
  /** trains that many steps; seconds taken */
  time(steps: number): Promise<number>;
  tokensPerStep: number;
  params: number;
  flopsPerToken: number;
  dispose(): void;
} {
  const { model, sampler, batchSize } = setup(kind, 1);
  const loop = engineLoop(model, sampler, batchSize, helpers);
  return {
    time: loop.time,
    tokensPerStep: model.itemsPerBatch(batchSize),
    params: model.paramCount.total,
    flopsPerToken: model.flops.perToken,
    dispose: loop.dispose,
  };
}

/**
 * Trains `steps` steps with each loop, `rounds` times, alternating engine and naive loop, and keeps each
 * loop's fastest round. Alternating puts both loops through the same spells of load on a busy machine,
 * which one measurement after the other does not. On WebGPU the engine's rounds all come first (below).
 */
export async function benchTraining(
  kind: BenchModel,
  steps: number,
  rounds = defaultRounds,
  helpers: GradientHelpers | null = null,
): Promise<TrainingBench> {
  const engineSetup = setup(kind, 1);
  const naiveSetup = setup(kind, 1);
  const { model, batchSize } = engineSetup;
  const loops = {
    engine: engineLoop(model, engineSetup.sampler, batchSize, helpers),
    baseline: naiveLoop(naiveSetup.model, naiveSetup.sampler),
    // The same model on this thread alone: what the helpers add, measured through the same spells of load.
    single: helpers ? engineLoop(model, engineSetup.sampler, batchSize, null) : null,
  };
  try {
    const best = {
      engine: Number.POSITIVE_INFINITY,
      baseline: Number.POSITIVE_INFINITY,
      single: Number.POSITIVE_INFINITY,
    };
    const peaks: { engine?: number } = {};
    const measure = async (name: 'engine' | 'baseline' | 'single', times: number) => {
      const loop = loops[name];
      if (!loop) return;
      for (let i = 0; i < times; i++) best[name] = Math.min(best[name], await loop.time(steps));
    };
    // Compile kernels and shaders outside the timing.
    await loops.engine.time(1);
    if (tf.getBackend() === 'webgpu') {
      // Every engine round before the naive loop's first dataSync: in Chromium's worker, WebGPU reads
      // with mapAsync fail after a synchronous read ("A valid external Instance reference no longer
      // exists"; Chromium 156, tfjs-backend-webgpu 4.22), and the engine reads asynchronously.
      await measure('engine', rounds);
      peaks.engine = await loops.engine.peak();
      await loops.baseline.time(1);
      await measure('baseline', rounds);
    } else {
      await loops.baseline.time(1);
      await loops.single?.time(1);
      for (let round = 0; round < rounds; round++) {
        // The engine's two loops swap places each round: neither always comes right after the naive loop.
        for (const name of round % 2 === 0 ? (['engine', 'single'] as const) : (['single', 'engine'] as const)) {
          await measure(name, 1);
        }
        await measure('baseline', 1);
      }
    }
    const tokensPerSec = (seconds: number) => (steps * model.itemsPerBatch(batchSize)) / seconds;
    const figures = async (loop: Loop, seconds: number, peak?: number): Promise<LoopFigures> => {
      return {
        tokensPerSec: tokensPerSec(seconds),
        gflops: (tokensPerSec(seconds) * model.flops.perToken) / 1e9,
        backend: tf.getBackend(),
        peakBytes: peak ?? (await loop.peak()),
      };
    };
    const engine = await figures(loops.engine, best.engine, peaks.engine);
    const baseline = await figures(loops.baseline, best.baseline);
    return {
      model: kind,
      steps,
      rounds,
      params: model.paramCount.total,
      flopsPerToken: model.flops.perToken,
      engine,
      baseline,
      ratio: engine.tokensPerSec / baseline.tokensPerSec,
      wasmThreads: wasmThreads(),
      dataParallel: helpers ? helpers.count + 1 : null,
      oneThread:
        loops.single && Number.isFinite(best.single)
          ? { tokensPerSec: tokensPerSec(best.single), speedup: best.single / best.engine }
          : null,
      kernelSwaps: [...kernelSwaps(tf.getBackend()), ...fusedKernels(tf.getBackend())],
      countBytes: engineSetup.countBytes,
    };
  } finally {
    // `single` trains the engine loop's model: disposed with it.
    loops.engine.dispose();
    loops.baseline.dispose();
  }
}

/** One kernel's share of a profiled training step. */
export interface KernelProfile {
  kernel: string;
  calls: number;
  ms: number;
  /** of the time all kernels took */
  share: number;
}

/**
 * Time per kernel over `steps` engine steps on the backend tfjs has now (tf.profile: each kernel timed as
 * the backend runs it), summed by kernel name and sorted, most first; with the steps' wall time, so the
 * time outside kernels (JavaScript, dispatch) shows too.
 */
export async function profileTraining(
  kind: BenchModel,
  steps = 1,
): Promise<{
  model: BenchModel;
  backend: string;
  steps: number;
  wallMs: number;
  kernelMs: number;
  kernels: KernelProfile[];
}> {
  const engine = engineBench(kind);
  try {
    await engine.time(1); // compile kernels outside the profile
    let wallMs = 0;
    const info = await tf.profile(async () => {
      wallMs = (await engine.time(steps)) * 1000;
      return [];
    });
    // Only registered kernels: tf.customGrad's forward functions are recorded too (as "unnamed scope"),
    // timed around the kernels they run, which are recorded themselves.
    const backend = tf.getBackend();
    const kernelsRun = info.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined);
    const times = await Promise.all(
      kernelsRun.map(async (k) => {
        const value = await (k as { kernelTimeMs: number | { error: string } | Promise<number | { error: string }> })
          .kernelTimeMs;
        return typeof value === 'number' && Number.isFinite(value) ? value : 0;
      }),
    );
    const byName = new Map<string, { calls: number; ms: number }>();
    kernelsRun.forEach((k, i) => {
      const entry = byName.get(k.name) ?? { calls: 0, ms: 0 };
      entry.calls++;
      entry.ms += times[i] as number;
      byName.set(k.name, entry);
    });
    const kernelMs = times.reduce((a, b) => a + b, 0);
    const kernels = [...byName]
      .map(([kernel, { calls, ms }]) => ({ kernel, calls, ms, share: kernelMs > 0 ? ms / kernelMs : 0 }))
      .sort((a, b) => b.ms - a.ms);
    return { model: kind, backend, steps, wallMs, kernelMs, kernels };
  } finally {
    engine.dispose();
  }
}
