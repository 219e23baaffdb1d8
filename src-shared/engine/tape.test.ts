import { describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src-main/training/node-backends';
import { gptShape, transformerCountBytes } from './accounting';
import { gptSmall } from './ladder';
import { createGpt, type GptConfig } from './models/gpt';
import { createMlp } from './models/mlp';
import type { Batch, Model } from './models/model';
import { peakBufferBytes } from './peak-memory';
import { withStockTape } from './tape';
import { type Tensor, tf } from './tf';

/** The loss, every gradient and the peak buffer bytes of one step of `model` on `batch`. */
async function step(model: Model, batch: Batch) {
  const grads: Record<string, number[]> = {};
  let loss = 0;
  const before = tf.memory().numTensors;
  const peak = await peakBufferBytes(async () => {
    const result = tf.variableGrads(() => model.loss(batch, true, 3));
    loss = (await result.value.data())[0] as number;
    for (const [name, grad] of Object.entries(result.grads)) grads[name] = Array.from(await grad.data());
    tf.dispose([result.value, ...Object.values(result.grads)]);
  });
  expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
  return { loss, grads, peak };
}

const ids = (batch: number, T: number, V: number, shift: number) =>
  tf.tensor2d(
    Array.from({ length: batch * T }, (_, i) => (i * 5 + shift) % V),
    [batch, T],
    'int32',
  );

describe.each(['cpu', 'wasm'] as const)('the freeing tape on %s', (backend) => {
  it.each([
    ['learned positions, dropout', { dropout: 0.1 }],
    ['rotary positions, untied, recomputed', { positions: 'rotary', tiedEmbeddings: false, recompute: true }],
  ] as Array<[string, Partial<GptConfig>]>)(
    'gives a GPT (%s) the gradients tfjs’s own tape gives, holding less at its peak',
    async (_, variant) => {
      await useNodeBackend(backend);
      const config: GptConfig = {
        ...gptSmall,
        vocabSize: 40,
        contextLength: 16,
        dModel: 32,
        nLayers: 3,
        nHeads: 2,
        ...variant,
      };
      const model = createGpt(config, 5);
      const batch = { x: ids(8, 16, 40, 0), y: ids(8, 16, 40, 1) };
      const freeing = await step(model, batch);
      const stock = await withStockTape(() => step(model, batch));
      expect(freeing.loss).toBe(stock.loss);
      expect(Object.keys(freeing.grads).sort()).toEqual(Object.keys(stock.grads).sort());
      // The same kernels on the same tensors: the same numbers, not merely close ones.
      for (const [name, grad] of Object.entries(stock.grads)) expect(freeing.grads[name], name).toEqual(grad);
      expect(freeing.peak).toBeLessThan(0.7 * stock.peak);
      // Under twice what the step needs by count (weights, gradients, moments, the activations read back).
      const count = transformerCountBytes(gptShape(config), model.paramCount.total, 8);
      if (!config.recompute) expect(freeing.peak).toBeLessThan(2 * count);
      tf.dispose([batch.x, batch.y]);
      model.dispose();
    },
  );

  it.runIf(backend === 'cpu')(
    'leaves nothing behind where a gradient hands a saved tensor back (gather’s indices)',
    async () => {
      await useNodeBackend(backend);
      const model = createGpt(
        { ...gptSmall, vocabSize: 40, contextLength: 16, dModel: 32, nLayers: 1, nHeads: 2, embedding: 'gather' },
        5,
      );
      const batch = { x: ids(4, 16, 40, 0), y: ids(4, 16, 40, 1) };
      const freeing = await step(model, batch); // asserts no tensor is left behind
      const stock = await withStockTape(() => step(model, batch));
      for (const [name, grad] of Object.entries(stock.grads)) expect(freeing.grads[name], name).toEqual(grad);
      tf.dispose([batch.x, batch.y]);
      model.dispose();
    },
  );

  it('gives an MLP the gradients tfjs’s own tape gives', async () => {
    await useNodeBackend(backend);
    const model = createMlp(
      { inputs: 6, width: 16, depth: 2, activation: 'gelu', dropout: 0, task: 'regression', outputs: 1 },
      2,
    );
    const batch = {
      x: tf.tensor2d(
        Array.from({ length: 96 }, (_, i) => Math.sin(i)),
        [16, 6],
      ),
      y: tf.tensor1d(Array.from({ length: 16 }, (_, i) => Math.cos(i))),
    };
    const freeing = await step(model, batch);
    const stock = await withStockTape(() => step(model, batch));
    expect(freeing.loss).toBe(stock.loss);
    for (const [name, grad] of Object.entries(stock.grads)) expect(freeing.grads[name], name).toEqual(grad);
    tf.dispose([batch.x, batch.y]);
    model.dispose();
  });

  it('computes only the gradients the variables need: none for the data', async () => {
    await useNodeBackend(backend);
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 2));
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.matMul(x, w)), [w]);
      tf.dispose([value, ...Object.values(grads)]);
    });
    // The product, and dW = xᵀ dy: no dx = dy Wᵀ, which nothing asked for.
    expect(profile.kernels.filter((k) => k.name === 'BatchMatMul')).toHaveLength(2);
    tf.dispose([x, w]);
  });

  it('gives a gradient of a gradient as tfjs’s own tape does', async () => {
    await useNodeBackend(backend);
    const x = tf.tensor1d([0.3, -1.2, 2]);
    // d/dx Σ f'(x) for f(a) = sin(a²)², through two tapes.
    const inner = tf.grad((a: Tensor) => tf.sum(tf.square(tf.sin(tf.mul(a, a)))));
    const outer = tf.grad((b: Tensor) => tf.sum(inner(b)));
    const second = () => tf.tidy(() => Array.from(outer(x).dataSync()));
    const freeing = second();
    expect(freeing.every(Number.isFinite)).toBe(true);
    expect(freeing).toEqual(await withStockTape(second));
    x.dispose();
  });

  it('leaves the caller’s dy alone, and a gradient that hands its dy back unchanged', async () => {
    await useNodeBackend(backend);
    // A custom op whose gradient is dy itself, then one that doubles: dy passes through both nodes.
    const passThrough = tf.customGrad(((x: Tensor, save: (t: Tensor[]) => void) => {
      save([x]);
      return { value: tf.mul(x, 1), gradFunc: (dy: Tensor) => [dy] };
    }) as never) as (x: Tensor) => Tensor;
    const x = tf.tensor1d([1, 2, 3]);
    const dy = tf.tensor1d([1, 10, 100]);
    const [grad] = tf.grads((input: Tensor) => tf.mul(passThrough(tf.add(input, 1)), 2))([x], dy);
    expect(Array.from(await (grad as Tensor).data())).toEqual([2, 20, 200]);
    expect(dy.isDisposed).toBe(false);
    expect(Array.from(await dy.data())).toEqual([1, 10, 100]);
    tf.dispose([x, dy, grad as Tensor]);
  });
});
