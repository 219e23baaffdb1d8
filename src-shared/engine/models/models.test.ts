import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../../src-main/engine/node-backends';
import { transformerForwardFlops } from '../accounting';
import { gptSmall } from '../ladder';
import { tf } from '../tf';
import { createGpt, type GptConfig, gptParamCount } from './gpt';
import { createMlp, type MlpConfig, mlpParamCount } from './mlp';
import { countWeights } from './model';

beforeAll(async () => {
  await useNodeBackend('cpu');
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
