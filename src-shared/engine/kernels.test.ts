import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src-main/training/node-backends';
import { kernelSwaps, withStockKernels } from './kernels';
import { tf } from './tf';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

// `broadcast`: tfjs's BatchMatMul gradient does not sum over broadcast batches (stock tfjs throws), so
// only the values are compared there.
const cases: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean; broadcast?: true }> = [
  // one matrix each, every transpose combination (a linear layer and its two backward matmuls)
  { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
  { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [1, 7, 5], b: [3, 7], transposeA: true, transposeB: true, broadcast: true },
  // a batch times one matrix
  { a: [2, 4, 5, 7], b: [7, 3], transposeA: false, transposeB: false, broadcast: true },
  { a: [2, 4, 7, 5], b: [3, 7], transposeA: true, transposeB: true, broadcast: true },
  // a transposed and wider than b (a weight's gradient xᵀ dy): the swap flips to (bᵀ a)ᵀ
  { a: [9, 8], b: [9, 2], transposeA: true, transposeB: false },
  { a: [1, 9, 8], b: [1, 9, 3], transposeA: true, transposeB: false },
  // batch times batch, as attention's scores and mixing are
  { a: [2, 3, 6, 4], b: [2, 3, 6, 4], transposeA: false, transposeB: true },
  { a: [2, 3, 6, 6], b: [2, 3, 6, 4], transposeA: false, transposeB: false },
  { a: [2, 3, 6, 6], b: [2, 3, 6, 4], transposeA: true, transposeB: false },
  // what the swap leaves to the stock kernel: one matrix against a batch
  { a: [7, 5], b: [4, 7, 3], transposeA: true, transposeB: false, broadcast: true },
  { a: [1, 1, 5, 7], b: [2, 3, 7, 2], transposeA: false, transposeB: false, broadcast: true },
];

function backendBuffers(): number {
  return tf.engine().backend.numDataIds();
}

describe('kernel swaps on WASM', () => {
  it('are installed for BatchMatMul, Tanh, Sum and Identity once the backend runs', () => {
    expect(kernelSwaps('wasm')).toEqual(['BatchMatMul (wasm)', 'Tanh (wasm)', 'Sum (wasm)', 'Identity (wasm)']);
    expect(kernelSwaps('cpu')).toEqual([]);
  });

  it('Identity shares its input buffer: a clone costs no bytes, and the buffer outlives either tensor alone', async () => {
    const x = tf.tensor1d([1, 2, 3, 4]);
    const bytes = tf.memory().numBytes;
    const buffers = (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const copy = tf.clone(x);
    expect((tf.memory() as { numDataBuffers: number }).numDataBuffers).toBe(buffers);
    expect(tf.memory().numBytes).toBe(bytes + 16);
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3, 4]);
    const doubled = tf.mul(copy, 2);
    copy.dispose();
    expect(Array.from(await doubled.data())).toEqual([2, 4, 6, 8]);
    doubled.dispose();
    expect((tf.memory() as { numDataBuffers: number }).numDataBuffers).toBe(buffers - 1);
  });

  for (const { a: aShape, b: bShape, transposeA, transposeB, broadcast } of cases) {
    it(`BatchMatMul ${aShape} x ${bShape}${transposeA ? ', a transposed' : ''}${transposeB ? ', b transposed' : ''}: ${broadcast ? 'values' : 'values and gradients'} as stock tfjs`, async () => {
      const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
      const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
      const weights = tf.randomNormal(tf.matMul(a, b, transposeA, transposeB).shape as number[], 0, 1, 'float32', 3);
      const compute = () => {
        const out = tf.matMul(a, b, transposeA, transposeB);
        if (broadcast) return [out];
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(x, y, transposeA, transposeB), weights)),
        )([a, b]);
        return [out, da, db] as tf.Tensor[];
      };
      const buffersBefore = backendBuffers();
      const swapped = compute();
      const values = swapped.map((t) => ({ shape: t.shape, data: t.arraySync() }));
      tf.dispose(swapped);
      // Every buffer the swap made for itself is freed again.
      expect(backendBuffers()).toBe(buffersBefore);
      const stock = await withStockKernels(compute);
      for (const [i, t] of stock.entries()) {
        expect(t.shape).toEqual(values[i]?.shape);
        const expected = (t.dataSync() as Float32Array).slice();
        const actual = tf.tensor(values[i]?.data as number[]).dataSync();
        for (let j = 0; j < expected.length; j++) expect(actual[j]).toBeCloseTo(expected[j] as number, 4);
      }
      tf.dispose([...stock, a, b, weights]);
    });
  }

  it('Tanh: values within float32 rounding of stock tfjs, gradients too, across its range', async () => {
    const x = tf.tensor1d([-30, -5, -1, -0.3, -1e-3, -1e-8, 0, 1e-8, 1e-3, 0.3, 1, 5, 30, Number.NaN]);
    const compute = () => {
      const [y, dx] = [tf.tanh(x), tf.grad((v: tf.Tensor) => tf.sum(tf.tanh(v)))(x)];
      return [y.arraySync(), dx.arraySync()] as number[][];
    };
    const buffersBefore = backendBuffers();
    const [swapped, swappedGrad] = tf.tidy(compute) as [number[], number[]];
    expect(backendBuffers()).toBe(buffersBefore);
    const [stock, stockGrad] = (await withStockKernels(() => tf.tidy(compute))) as [number[], number[]];
    for (const [i, value] of stock.entries()) {
      if (Number.isNaN(value)) {
        expect(swapped[i]).toBeNaN();
        continue;
      }
      expect(Math.abs((swapped[i] as number) - value)).toBeLessThan(1.2e-7);
      expect(Math.abs((swappedGrad[i] as number) - (stockGrad[i] as number))).toBeLessThan(2.4e-7);
    }
    x.dispose();
  });

  it.each([
    { shape: [64, 5], axis: 0, keepDims: false },
    { shape: [3, 4, 6], axis: [0, 1], keepDims: true },
    { shape: [3, 4, 6], axis: [1, 0], keepDims: false },
    { shape: [3, 4, 6], axis: 0, keepDims: true },
    // left to the stock kernel: trailing axes, every axis, integers
    { shape: [6, 5], axis: -1, keepDims: false },
    { shape: [3, 4, 6], axis: [0, 1, 2], keepDims: false },
    { shape: [6, 5], axis: 0, keepDims: false, dtype: 'int32' as const },
  ])('Sum of $shape over $axis (keepDims $keepDims, $dtype): values and gradients as stock tfjs', async (c) => {
    const size = c.shape.reduce((p, q) => p * q, 1);
    const x = tf.tensor(
      Array.from({ length: size }, (_, i) => (c.dtype ? (i * 7) % 11 : Math.sin(i) * 100)),
      c.shape,
      c.dtype ?? 'float32',
    );
    const compute = () => {
      const y = tf.sum(x, c.axis, c.keepDims);
      if (c.dtype) return [y.shape, y.arraySync()];
      const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.sum(v, c.axis, c.keepDims), 3)))(x);
      return [y.shape, y.arraySync(), dx.arraySync()];
    };
    const buffersBefore = backendBuffers();
    const swapped = tf.tidy(() => compute() as never) as unknown[];
    expect(backendBuffers()).toBe(buffersBefore);
    const stock = (await withStockKernels(() => tf.tidy(() => compute() as never))) as unknown[];
    expect(swapped[0]).toEqual(stock[0]);
    const flat = (v: unknown) => [v].flat(4) as number[];
    for (const [i, value] of flat(stock[1]).entries()) expect(flat(swapped[1])[i]).toBeCloseTo(value, 3);
    if (!c.dtype) expect(swapped[2]).toEqual(stock[2]);
    x.dispose();
  });

  it('runs on stock kernels inside withStockKernels, and is back afterwards even when the work throws', async () => {
    const swapped = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    await withStockKernels(() => expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBe(swapped));
    await expect(
      withStockKernels(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(swapped);
  });
});
