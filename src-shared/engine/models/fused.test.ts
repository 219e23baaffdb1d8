import { describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../../src-main/training/node-backends';
import { webGpuForTests } from '../../../src-main/training/training-fixture';
import { Random } from '../../random';
import { fusedKernelsOn, setFusedKernels } from '../fused-kernels';
import { type Tensor, tf } from '../tf';
import { causalSoftmax, gelu, layerNorm } from './fused';

// The fused ops against the tfjs composites they replace: the same values and gradients to float rounding.
const composite = {
  gelu: (x: Tensor) =>
    tf.mul(
      tf.mul(0.5, x),
      tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(tf.square(x), x)))))),
    ),
  layerNorm: (x: Tensor, gain: Tensor, bias: Tensor) => {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5))), gain), bias);
  },
  causalSoftmax: (scores: Tensor, mask: Tensor, scale: number) => tf.softmax(tf.add(tf.mul(scores, scale), mask)),
};

function normal(shape: number[], seed: number, scale = 1): Tensor {
  const random = new Random(seed);
  return tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * random.normal()),
    shape,
  );
}

/** The value of f(inputs) and its gradients for a random weighting of its output (a loss that is not flat). */
async function valueAndGrads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed: number) {
  const out = f(...inputs);
  const weights = normal(out.shape, seed);
  out.dispose();
  const grads = tf.grads((...xs: Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
  const value = f(...inputs);
  const result = { value: await value.array(), grads: await Promise.all(grads.map((g) => g.array())) };
  tf.dispose([weights, value, ...grads]);
  return result;
}

function expectClose(a: unknown, b: unknown, digits: number): void {
  const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
  const [left, right] = [flat(a), flat(b)];
  expect(left.length).toBe(right.length);
  for (const [i, v] of left.entries()) expect(v).toBeCloseTo(right[i] as number, digits);
}

// On WebGPU the fused ops run the WGSL kernels of webgpu-fused-kernels.ts (on SwiftShader too: by default
// they run on hardware adapters only), on WASM the SIMD module of wasm-fused-kernels.ts. Shapes wider than a
// workgroup (64) and rows that are not a multiple of it exercise the shaders' loops and reductions; widths
// and sizes that are not a multiple of 4 exercise the WASM kernels' one-lane tails.
setFusedKernels('on');
const backends = (await webGpuForTests()).available ? (['cpu', 'wasm', 'webgpu'] as const) : (['cpu', 'wasm'] as const);

describe.each(backends)('fused ops on %s', (backend) => {
  it('GELU: the same values and gradient as the composite, over a wide range', async () => {
    await useNodeBackend(backend);
    expect(fusedKernelsOn()).toBe(backend !== 'cpu');
    const x = normal([61, 47], 1, 3); // 2,867 values: WASM's last 3 take the one-lane path
    const fused = await valueAndGrads(gelu, [x], 2);
    const reference = await valueAndGrads(composite.gelu, [x], 2);
    expectClose(fused.value, reference.value, 5);
    expectClose(fused.grads, reference.grads, 4);
    x.dispose();
  });

  it('layer norm: the same values and gradients for x, gain and bias', async () => {
    await useNodeBackend(backend);
    const [x, gain, bias] = [normal([3, 5, 70], 3, 2), normal([70], 4), normal([70], 5)];
    const fused = await valueAndGrads(layerNorm as (...xs: Tensor[]) => Tensor, [x, gain, bias], 6);
    const reference = await valueAndGrads(composite.layerNorm as (...xs: Tensor[]) => Tensor, [x, gain, bias], 6);
    expectClose(fused.value, reference.value, 5);
    expectClose(fused.grads, reference.grads, 3);
    tf.dispose([x, gain, bias]);
  });

  it('causal softmax: the same weights and gradient, nothing flowing to masked positions', async () => {
    await useNodeBackend(backend);
    const scores = normal([2, 3, 67, 67], 7, 4);
    const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([67, 67]), -1, 0)), -1e9));
    const f = (s: Tensor) => causalSoftmax(s, mask, 0.25);
    const fused = await valueAndGrads(f, [scores], 8);
    const reference = await valueAndGrads((s: Tensor) => composite.causalSoftmax(s, mask, 0.25), [scores], 8);
    expectClose(fused.value, reference.value, 5);
    expectClose(fused.grads, reference.grads, 5);
    const grad = (fused.grads[0] as number[][][][])[1]?.[2]?.[0] as number[];
    expect(grad.slice(1).every((g) => g === 0)).toBe(true);
    // Masked weights are exactly 0, also in memory that held something before (a tensor just freed).
    tf.fill(scores.shape, 7).dispose();
    const out = f(scores);
    const rows = (await out.array()) as number[][][][];
    out.dispose();
    for (const row of [0, 1, 30, 66]) {
      const weights = rows[1]?.[2]?.[row] as number[];
      expect(weights.slice(row + 1).every((w) => w === 0)).toBe(true);
      expect(weights.slice(0, row + 1).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    tf.dispose([scores, mask]);
  });

  it('leave no tensor behind, forward or backward', async () => {
    await useNodeBackend(backend);
    const x = normal([16, 16], 9);
    const [gain, bias] = [tf.ones([16]), tf.zeros([16])];
    const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([16, 16]), -1, 0)), -1e9));
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: Tensor) =>
      tf.sum(causalSoftmax(tf.reshape(gelu(layerNorm(a, gain, bias)), [1, 1, 16, 16]), mask, 0.5)),
    )([x]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gain, bias, mask]);
  });
});
