import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src-main/training/node-backends';
import { Random } from '../random';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { evalTokenBatches, RowSampler, rowBatch, TokenSampler, windows } from './data';
import { meanLoss } from './evaluate';
import { createGpt } from './models/gpt';
import { createMlp } from './models/mlp';
import type { Model } from './models/model';
import { tf } from './tf';
import { type Checkpoint, defaultTrainerOptions, type Metrics, Trainer, type TrainerOptions } from './trainer';

beforeAll(async () => {
  await useNodeBackend('cpu');
});

/** y = sin(x1) + x2 x3 / 2 + noise: something a small MLP can learn. */
function regressionRows(n: number, seed: number): Float32Array {
  const random = new Random(seed);
  const rows = new Float32Array(n * 4);
  for (let r = 0; r < n; r++) {
    const x = [random.normal(), random.normal(), random.normal()] as const;
    rows.set([...x, Math.sin(x[0]) + (x[1] * x[2]) / 2 + 0.05 * random.normal()], r * 4);
  }
  return rows;
}

const train = regressionRows(2000, 1);
const val = regressionRows(256, 2);

function mlp(seed = 5): Model {
  return createMlp(
    { inputs: 3, width: 32, depth: 2, activation: 'tanh', dropout: 0, task: 'regression', outputs: 1 },
    seed,
  );
}

function options(overrides: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    ...defaultTrainerOptions,
    batchSize: 32,
    plannedSteps: 60,
    evalSteps: [20, 40],
    peakLearningRate: 3e-3,
    warmupSteps: 5,
    ...overrides,
  };
}

function evaluateOn(model: Model) {
  return () =>
    meanLoss(model, () => [
      rowBatch(
        val,
        3,
        Array.from({ length: 256 }, (_, i) => i),
        false,
      ),
    ]);
}

describe('trainer', () => {
  it('lowers the validation loss, evaluates at the planned steps, and reports throughput', async () => {
    const model = mlp();
    const before = await evaluateOn(model)();
    const metrics: Metrics[] = [];
    const trainer = new Trainer(
      model,
      new RowSampler(train, 3, 32, 9, false),
      options({ plannedSteps: 150, evalSteps: [50, 100] }),
      {
        evaluate: evaluateOn(model),
        onMetrics: (m) => {
          metrics.push(m);
        },
      },
    );
    const result = await trainer.run();
    expect(result.status).toBe('completed');
    expect(result.reason).toBe('planned steps done');
    expect(metrics.map((m) => m.step)).toEqual([50, 100, 150]);
    expect(result.valLoss).toBeLessThan(before * 0.5);
    expect(metrics[2]?.tokens).toBe(150 * 32);
    expect(metrics[2]?.flops).toBe(150 * 32 * model.flops.perToken);
    expect(metrics[2]?.tokensPerSecond).toBeGreaterThan(0);
    // The cosine ends at 10% of the peak exactly at the planned step.
    expect(metrics[2]?.learningRate).toBeCloseTo(3e-4, 6);
    trainer.dispose();
    model.dispose();
  });

  it('keeps the number of live tensors flat from step to step', async () => {
    const model = mlp();
    const counts: number[] = [];
    const trainer = new Trainer(
      model,
      new RowSampler(train, 3, 32, 9, false),
      options({ plannedSteps: 80, evalSteps: [20, 40, 60], readLossEvery: 5 }),
      {
        evaluate: evaluateOn(model),
        onMetrics: () => {
          counts.push(tf.memory().numTensors);
        },
      },
    );
    await trainer.run();
    expect(counts).toHaveLength(4);
    expect(new Set(counts).size).toBe(1);
    trainer.dispose();
    model.dispose();
  });

  it('trains on while a loss is being read, unless the step needs it (evaluation, checkpoint, the end)', async () => {
    // Reads that take a while to land, as on a GPU: the loop must queue the next window's steps meanwhile.
    const model = mlp();
    const landed: Array<[number, number]> = [];
    let trainer: Trainer | null = null;
    const data = tf.Tensor.prototype.data;
    tf.Tensor.prototype.data = function (this: tf.Tensor) {
      const asked = trainer?.step ?? -1;
      const read = data.call(this);
      return new Promise((resolve) => setTimeout(resolve, 30)).then(() => {
        if (this.size === 1 && trainer) landed.push([asked, trainer.step]);
        return read;
      }) as ReturnType<typeof data>;
    } as typeof data;
    try {
      trainer = new Trainer(
        model,
        new RowSampler(train, 3, 32, 9, false),
        options({ plannedSteps: 40, evalSteps: [20], readLossEvery: 5, checkpointEvery: 0 }),
        { evaluate: async () => 1 },
      );
      const result = await trainer.run();
      expect(result.status).toBe('completed');
      const windows = new Map(landed.filter(([asked]) => asked % 5 === 0 && asked > 0));
      // Steps 5, 10, 15, 25, 30, 35: read in flight while the next window trains.
      for (const step of [5, 10, 15, 25, 30, 35]) expect(windows.get(step), `read at ${step}`).toBeGreaterThan(step);
      // The evaluation at 20 and the end at 40 wait for their loss.
      expect(windows.get(20)).toBe(20);
      expect(windows.get(40)).toBe(40);
      expect(result.trainLoss).toBeGreaterThan(0);
    } finally {
      tf.Tensor.prototype.data = data;
      trainer?.dispose();
      model.dispose();
    }
  });

  it('stops with status diverged, and the step, when the loss blows up', async () => {
    const model = mlp();
    const trainer = new Trainer(
      model,
      new RowSampler(train, 3, 32, 9, false),
      options({ peakLearningRate: 1e4, gradClip: null, warmupSteps: 0, plannedSteps: 200, readLossEvery: 2 }),
      { evaluate: evaluateOn(model) },
    );
    const result = await trainer.run();
    expect(result.status).toBe('diverged');
    expect(['loss is not finite', 'loss spiked']).toContain(result.reason);
    expect(result.divergedAt).toBeGreaterThan(0);
    expect(result.divergedAt).toBeLessThan(200);
    trainer.dispose();
    model.dispose();
  });

  it('stops at a token budget, at a FLOP budget, and on request', async () => {
    const model = mlp();
    const byTokens = new Trainer(
      model,
      new RowSampler(train, 3, 32, 9, false),
      options({ budget: { tokens: 32 * 25 } }),
      {
        evaluate: evaluateOn(model),
      },
    );
    expect(await byTokens.run()).toMatchObject({ status: 'completed', reason: 'token budget', step: 25 });
    byTokens.dispose();
    const byFlops = new Trainer(
      model,
      new RowSampler(train, 3, 32, 9, false),
      options({ budget: { flops: 32 * 12 * model.flops.perToken } }),
      {
        evaluate: evaluateOn(model),
      },
    );
    expect(await byFlops.run()).toMatchObject({ reason: 'FLOP budget', step: 12 });
    byFlops.dispose();
    const stopped = new Trainer(model, new RowSampler(train, 3, 32, 9, false), options({ plannedSteps: 10_000 }), {
      evaluate: evaluateOn(model),
    });
    setTimeout(() => stopped.requestStop(), 50);
    const result = await stopped.run();
    expect(result.status).toBe('stopped');
    expect(result.step).toBeLessThan(10_000);
    stopped.dispose();
    model.dispose();
  });

  it('resumes from a checkpoint bit for bit on the CPU backend', async () => {
    const run = async (stopAt: number | null, resumeFrom: Checkpoint | null) => {
      const model = mlp(11);
      const checkpoints: Checkpoint[] = [];
      const opts = options({
        plannedSteps: 60,
        checkpointEvery: 20,
        readLossEvery: 10,
        budget: stopAt ? { tokens: stopAt * 32 } : {},
      });
      const trainer = new Trainer(model, new RowSampler(train, 3, 32, 4, false), opts, {
        evaluate: evaluateOn(model),
        onCheckpoint: (c) => {
          checkpoints.push(c);
        },
      });
      if (resumeFrom) trainer.restore(resumeFrom);
      const result = await trainer.run();
      const weights = await Promise.all(model.parameters.map((p) => p.variable.data()));
      trainer.dispose();
      model.dispose();
      return { result, checkpoints, weights };
    };
    const whole = await run(null, null);
    const firstHalf = await run(30, null);
    const saved = firstHalf.checkpoints.find((c) => c.step === 20) as Checkpoint;
    // Through the on-disk form and back, as a resumed run reads it.
    const { manifest, weights } = encodeCheckpoint(saved);
    const atStep20 = decodeCheckpoint(JSON.parse(JSON.stringify(manifest)), weights.slice());
    expect(atStep20.tensors.map((t) => t.name)).toEqual(saved.tensors.map((t) => t.name));
    const resumed = await run(null, atStep20);
    expect(resumed.result.step).toBe(60);
    expect(resumed.result.valLoss).toBe(whole.result.valLoss);
    expect(resumed.result.trainLoss).toBe(whole.result.trainLoss);
    for (const [i, w] of resumed.weights.entries()) {
      expect(Array.from(w)).toEqual(Array.from(whole.weights[i] as Float32Array));
    }
  });

  it('stops early when validation stops improving, and restores the best weights', async () => {
    const noisy = regressionRows(48, 21).map((v, i) => (i % 4 === 3 ? v + 0.6 * Math.sin(i * 12.9898) : v));
    const model = createMlp(
      { inputs: 3, width: 128, depth: 3, activation: 'tanh', dropout: 0, task: 'regression', outputs: 1 },
      2,
    );
    const evalSteps = Array.from({ length: 100 }, (_, i) => (i + 1) * 20);
    const metrics: Metrics[] = [];
    const trainer = new Trainer(
      model,
      new RowSampler(noisy, 3, 16, 3, false),
      options({
        plannedSteps: 2000,
        evalSteps,
        peakLearningRate: 1e-2,
        earlyStopping: { patience: 5, minDelta: 0, restoreBest: true },
      }),
      { evaluate: evaluateOn(model), onMetrics: (m) => void metrics.push(m) },
    );
    const result = await trainer.run();
    expect(result.reason).toBe('early stopping');
    expect(result.step).toBeLessThan(2000);
    expect(result.bestStep).toBe(
      Math.min(...metrics.filter((m) => m.valLoss === result.bestValLoss).map((m) => m.step)),
    );
    // The model now holds the best evaluation's weights.
    expect(await evaluateOn(model)()).toBeCloseTo(result.bestValLoss as number, 5);
    expect(metrics.length - metrics.findIndex((m) => m.step === result.bestStep) - 1).toBe(5);
    trainer.dispose();
    model.dispose();
  });

  it('early stopping can watch validation accuracy instead of the loss', async () => {
    // Accuracy (scripted per evaluation) peaks at the third evaluation while the real loss keeps falling.
    const accuracies = [0.6, 0.7, 0.8, 0.75, 0.74, 0.73, 0.72, 0.71, 0.7, 0.69];
    const run = async (metric: 'valLoss' | 'valAccuracy') => {
      const model = mlp();
      let evaluation = 0;
      const trainer = new Trainer(
        model,
        new RowSampler(train, 3, 32, 9, false),
        options({
          plannedSteps: 200,
          evalSteps: Array.from({ length: 10 }, (_, i) => (i + 1) * 20),
          earlyStopping: { patience: 2, minDelta: 0, restoreBest: true, metric },
        }),
        { evaluate: evaluateOn(model), evaluateAccuracy: async () => accuracies[evaluation++] ?? 0.5 },
      );
      const result = await trainer.run();
      trainer.dispose();
      model.dispose();
      return result;
    };
    const byAccuracy = await run('valAccuracy');
    expect(byAccuracy.reason).toBe('early stopping');
    expect(byAccuracy.bestStep).toBe(60);
    expect(byAccuracy.step).toBe(100);
    const byLoss = await run('valLoss');
    expect(byLoss.reason).not.toBe('early stopping');
    expect(byLoss.step).toBe(200);
  });

  it('pauses and resumes', async () => {
    const model = mlp();
    const trainer = new Trainer(model, new RowSampler(train, 3, 32, 9, false), options({ plannedSteps: 100 }), {
      evaluate: evaluateOn(model),
    });
    trainer.pause();
    const running = trainer.run();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(trainer.step).toBe(0);
    trainer.resume();
    expect((await running).step).toBe(100);
    trainer.dispose();
    model.dispose();
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`trains a small GPT on a repetitive byte corpus on ${backend}`, async () => {
      await useNodeBackend(backend);
      const text = new TextEncoder().encode('abcabcabd abcabcabd xyzzy! '.repeat(200));
      const model = createGpt(
        {
          vocabSize: 256,
          contextLength: 16,
          dModel: 32,
          nLayers: 2,
          nHeads: 2,
          positions: 'learned',
          tiedEmbeddings: true,
          dropout: 0,
          embedding: 'onehot',
        },
        3,
      );
      const evalStarts = evalTokenBatches(text, 16, 8, 2);
      const evaluate = () => meanLoss(model, () => evalStarts.map((starts) => windows(text, starts, 16)));
      const before = await evaluate();
      const trainer = new Trainer(
        model,
        new TokenSampler(text, 16, 8, 1),
        options({ plannedSteps: 60, peakLearningRate: 3e-3, evalSteps: [] }),
        { evaluate },
      );
      const result = await trainer.run();
      expect(before).toBeGreaterThan(5);
      expect(result.valLoss).toBeLessThan(2);
      trainer.dispose();
      model.dispose();
      await useNodeBackend('cpu');
    });
  }
});
