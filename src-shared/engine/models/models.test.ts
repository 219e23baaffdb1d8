import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../../src-main/training/node-backends';
import type { ModelSpec } from '../../contract';
import { gptParamCount, gptShape, transformerForwardFlops, transformerStepBytes } from '../accounting';
import { gptSmall } from '../ladder';
import { activationBudgetBytes, activationLogLine, activationPlan } from '../memory';
import { peakBufferBytes } from '../peak-memory';
import { tf } from '../tf';
import { familyOf, modelFamilies } from './families';
import { createGpt, type GptConfig } from './gpt';
import { createMlp, type MlpConfig, mlpFlops, mlpParamCount } from './mlp';
import { countWeights } from './model';

beforeAll(async () => {
  await useNodeBackend('cpu');
});

describe('the model families registry', () => {
  it("answers for each family from that family's own functions, and builds a model of the size it counts", () => {
    const specs: ModelSpec[] = [
      { family: 'gpt', ...gptSmall },
      { family: 'mlp', inputs: 5, width: 16, depth: 2, activation: 'tanh', dropout: 0, task: 'regression', outputs: 1 },
    ];
    for (const spec of specs) {
      const family = familyOf(spec);
      expect(family).toBe(modelFamilies[spec.family]);
      const model = family.create(spec, 1, 4);
      expect(countWeights(model.parameters)).toBe(family.paramCount(spec).total);
      model.dispose();
    }
    const [gpt, mlp] = specs as [ModelSpec, ModelSpec];
    expect(familyOf(gpt).positionsPerExample(gpt)).toBe(gptSmall.contextLength);
    expect(familyOf(mlp).positionsPerExample(mlp)).toBe(1);
    expect([familyOf(gpt).trainsOn, familyOf(mlp).trainsOn]).toEqual(['text', 'table']);
    expect(familyOf(mlp).flops(mlp)).toEqual(mlpFlops(mlp as MlpConfig));
  });
});

describe('parameter counts', () => {
  it('match the actual weights, for every GPT variant', () => {
    for (const variant of [
      gptSmall,
      { ...gptSmall, positions: 'rotary' as const },
      { ...gptSmall, tiedEmbeddings: false, dFeedForward: 300 },
      { ...gptSmall, vocabSize: 1000, contextLength: 16, dModel: 48, nLayers: 2, nHeads: 3 },
    ]) {
      const model = createGpt(variant, 1);
      expect(countWeights(model.parameters)).toBe(gptParamCount(variant).total);
      model.dispose();
    }
  });

  it('gpt-small is about 0.9M parameters; Kaplan non-embedding N is 12 L d² plus biases and norms', () => {
    const count = gptParamCount(gptSmall);
    expect(count.total).toBeGreaterThan(0.8e6);
    expect(count.total).toBeLessThan(0.9e6);
    // 12 L d² = 786,432; biases and layer norms add 13 d per layer and 2 d at the end.
    expect(count.nonEmbedding).toBe(12 * 4 * 128 * 128 + 4 * 13 * 128 + 2 * 128);
    expect(count.total - count.nonEmbedding).toBe(256 * 128 + 128 * 128);
  });

  it('match the actual weights for MLPs', () => {
    const config: MlpConfig = {
      inputs: 16,
      width: 32,
      depth: 2,
      activation: 'tanh',
      dropout: 0,
      task: 'regression',
      outputs: 1,
    };
    const model = createMlp(config, 3);
    expect(countWeights(model.parameters)).toBe(mlpParamCount(config).total);
    expect(mlpParamCount(config).total).toBe(16 * 32 + 32 + 32 * 32 + 32 + 32 + 1);
    model.dispose();
  });
});

describe('FLOP counts (Chinchilla appendix F)', () => {
  it('match a hand count for a small transformer', () => {
    // V=10, T=4, d=8, L=2, H=2 (key size 4), ffw=32.
    const flops = transformerForwardFlops({
      vocabSize: 10,
      contextLength: 4,
      dModel: 8,
      nLayers: 2,
      nHeads: 2,
      dFeedForward: 32,
    });
    const embeddings = 2 * 4 * 10 * 8; // 640
    const attention = 2 * 3 * 4 * 8 * 8 + 2 * 4 * 4 * 8 + 3 * 2 * 4 * 4 + 2 * 4 * 4 * 8 + 2 * 4 * 8 * 8; // 1536+256+96+256+512
    const dense = 2 * 4 * (8 * 32 + 32 * 8); // 4096
    const logits = 2 * 4 * 8 * 10; // 640
    expect(flops).toEqual({ embeddings, attention, dense, logits, total: 640 + 2 * (2656 + 4096) + 640 });
  });

  it('are near 6N per token for gpt-small, and the MLP count is 6 x weights per example', () => {
    const model = createGpt(gptSmall, 1);
    expect(model.flops.perToken / model.flops.sixN).toBeGreaterThan(0.9);
    expect(model.flops.perToken / model.flops.sixN).toBeLessThan(1.6);
    expect(model.flops.perTokenNonEmbedding).toBeLessThan(model.flops.perToken);
    model.dispose();
    const mlp = createMlp(
      { inputs: 16, width: 8, depth: 2, activation: 'tanh', dropout: 0, task: 'regression', outputs: 1 },
      1,
    );
    expect(mlp.flops.perToken).toBe(3 * 2 * (16 * 8 + 8 * 8 + 8 * 1));
    mlp.dispose();
  });
});

describe('forward and backward', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`a tiny GPT gives ln(V) loss at init and gradients for every weight on ${backend}`, async () => {
      await useNodeBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      for (const positions of ['learned', 'rotary'] as const) {
        const config: GptConfig = {
          ...gptSmall,
          vocabSize: 32,
          contextLength: 8,
          dModel: 16,
          nLayers: 2,
          nHeads: 2,
          positions,
        };
        const model = createGpt(config, 7);
        const x = tf.tensor2d(
          Array.from({ length: 16 }, (_, i) => i % 32),
          [2, 8],
          'int32',
        );
        const y = tf.tensor2d(
          Array.from({ length: 16 }, (_, i) => (i + 1) % 32),
          [2, 8],
          'int32',
        );
        const { value, grads } = tf.variableGrads(() => model.loss({ x, y }, true, 1));
        expect(Math.abs(((await value.data())[0] as number) - Math.log(32))).toBeLessThan(0.1);
        expect(Object.keys(grads).length).toBe(model.parameters.length);
        for (const grad of Object.values(grads))
          expect(Number.isFinite((await tf.sum(tf.abs(grad)).data())[0])).toBe(true);
        tf.dispose([x, y, value, ...Object.values(grads)]);
        model.dispose();
      }
    });
  }
});

describe('recomputed blocks (gradient checkpointing)', () => {
  it.each(['cpu', 'wasm'] as const)(
    'give the same loss and gradients, dropout included, while holding less at their peak on %s',
    async (backend) => {
      await useNodeBackend(backend);
      const base: GptConfig = {
        ...gptSmall,
        vocabSize: 32,
        contextLength: 16,
        dModel: 32,
        nLayers: 6,
        nHeads: 2,
        dropout: 0.1,
      };
      const x = tf.tensor2d(
        Array.from({ length: 256 }, (_, i) => (i * 7) % 32),
        [16, 16],
        'int32',
      );
      const y = tf.tensor2d(
        Array.from({ length: 256 }, (_, i) => (i * 7 + 3) % 32),
        [16, 16],
        'int32',
      );
      const step = async (recompute: boolean) => {
        const model = createGpt({ ...base, recompute }, 11);
        let loss = 0;
        const grads: Record<string, Float32Array> = {};
        const peak = await peakBufferBytes(async () => {
          const result = tf.variableGrads(() => model.loss({ x, y }, true, 5));
          loss = (await result.value.data())[0] as number;
          for (const p of model.parameters)
            grads[p.name] = (await result.grads[p.variable.name]?.data()) as Float32Array;
          tf.dispose([result.value, ...Object.values(result.grads)]);
        });
        model.dispose();
        return { loss, grads, peak };
      };
      const before = tf.memory().numTensors;
      const kept = await step(false);
      const recomputed = await step(true);
      expect(tf.memory().numTensors).toBe(before);
      expect(recomputed.loss).toBe(kept.loss);
      expect(Object.keys(recomputed.grads)).toHaveLength(Object.keys(kept.grads).length);
      for (const [name, grad] of Object.entries(kept.grads)) {
        const other = recomputed.grads[name] as Float32Array;
        const scale = Math.max(...grad.map(Math.abs));
        expect(scale, name).toBeGreaterThan(0);
        const worst = Math.max(...grad.map((g, i) => Math.abs(g - (other[i] as number))));
        expect(worst / scale, name).toBeLessThan(1e-5);
      }
      // Six blocks' activations at once against one block's and six block inputs.
      expect(recomputed.peak).toBeLessThan(0.6 * kept.peak);
      tf.dispose([x, y]);
    },
  );
});

describe('activation memory', () => {
  it('the estimate is within 0.7–1.3 of the peak a step holds, kept and recomputed', async () => {
    await useNodeBackend('cpu');
    const variants: Array<[Partial<GptConfig>, number]> = [
      [{ dModel: 32, nLayers: 2, nHeads: 2, contextLength: 32, vocabSize: 256 }, 4],
      [{ dModel: 64, nLayers: 3, nHeads: 4, contextLength: 48, vocabSize: 512, dFeedForward: 128 }, 2],
      [{ dModel: 48, nLayers: 5, nHeads: 3, contextLength: 24, vocabSize: 128, positions: 'rotary' }, 3],
    ];
    for (const [variant, batchSize] of variants) {
      for (const recompute of [false, true]) {
        const config: GptConfig = { ...gptSmall, ...variant, recompute };
        const model = createGpt(config, 3);
        const T = config.contextLength;
        const ids = (shift: number) =>
          tf.tensor2d(
            Array.from({ length: batchSize * T }, (_, i) => (i * 5 + shift) % config.vocabSize),
            [batchSize, T],
            'int32',
          );
        const [x, y] = [ids(0), ids(1)];
        const resident = tf.memory().numBytes;
        const peak = await peakBufferBytes(async () => {
          const result = tf.variableGrads(() => model.loss({ x, y }, true, 1));
          await result.value.data();
          tf.dispose([result.value, ...Object.values(result.grads)]);
        });
        const estimate = transformerStepBytes(gptShape(config), gptParamCount(config).total, batchSize, recompute);
        expect(estimate / (peak - resident), `${JSON.stringify(variant)} recompute ${recompute}`).toBeGreaterThan(0.7);
        expect(estimate / (peak - resident), `${JSON.stringify(variant)} recompute ${recompute}`).toBeLessThan(1.3);
        tf.dispose([x, y]);
        model.dispose();
      }
    }
  });

  it('a GPT recomputes its activations only past the budget, and its log says so once', () => {
    const spec = { family: 'gpt' as const, ...gptSmall };
    const params = gptParamCount(gptSmall).total;
    expect(transformerStepBytes(gptShape(gptSmall), params, 32, false)).toBeLessThan(activationBudgetBytes);
    expect(activationPlan(spec, 32)).toEqual({ recompute: false, note: null });
    // Batch 256 fits (about 1.9 GB with the fused ops and the freeing tape); 512 does not.
    expect(activationPlan(spec, 256).recompute).toBe(false);
    const big = activationPlan(spec, 512);
    expect(big.recompute).toBe(true);
    expect(big.note).toMatch(
      /^Recomputes each block's activations in the backward pass \(gradient checkpointing\): keeping them would take about 3\.\d GB a step, over the 2\.1 GB allowed; recomputed, about 1\.\d GB/,
    );
    const run = { config: { model: spec, batchSize: 512 }, log: [] as Array<{ at: string; message: string }> };
    expect(activationLogLine(run as never)).toBe(big.note);
    run.log.push({ at: '2026-12-02T00:00:00Z', message: big.note as string });
    expect(activationLogLine(run as never)).toBeNull();
  });
});
