import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src-main/training/node-backends';
import { webGpuForTests } from '../../src-main/training/training-fixture';
import { Random } from '../random';
import { AdamW, jointUpdateMaxSize } from './adamw';
import { fusedKernelsOn, setFusedKernels } from './fused-kernels';
import type { Parameter } from './models/model';
import { tf } from './tf';

/** Parameters on both sides of the joint-update size, with gradients of a fixed quadratic. */
function setup() {
  const random = new Random(3);
  const shapes = [[3], [jointUpdateMaxSize + 1], [8, 16], [70, 70], [1]];
  const make = (): Parameter[] =>
    shapes.map((shape, i) => ({
      name: `p${i}`,
      variable: tf.variable(
        tf.tensor(
          Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0),
          shape,
        ),
      ),
      decay: shape.length === 2,
    }));
  const targets = shapes.map((shape) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.normal()),
      shape,
    ),
  );
  // d/dw of |w - t|^2 / 2, scaled up so that clipping has something to do
  const grads = (parameters: Parameter[]) =>
    parameters.map((p, i) => tf.mul(tf.sub(p.variable, targets[i] as tf.Tensor), 3));
  return { make, grads, targets };
}

// Three implementations: one loop per parameter on the CPU backend (in memory), the fused SIMD kernels on
// WASM, and the fused WGSL kernels on WebGPU (Dawn on SwiftShader, where it starts; by default they run on
// hardware adapters only).
setFusedKernels('on');
const backends = (await webGpuForTests()).available ? (['cpu', 'wasm', 'webgpu'] as const) : (['cpu', 'wasm'] as const);
describe.each(backends)('AdamW on %s', (backend) => {
  beforeAll(async () => {
    await useNodeBackend(backend);
  });

  it.each([1, null])(
    'updates small and large parameters as the textbook AdamW does (clip %s), with decoupled decay',
    async (clip) => {
      expect(fusedKernelsOn()).toBe(backend !== 'cpu');
      const { make, grads } = setup();
      const params = make();
      const reference = make();
      const adamw = new AdamW(params, { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 });
      const m = reference.map((p) => new Float64Array(p.variable.size));
      const v = reference.map((p) => new Float64Array(p.variable.size));
      const lr = 0.01;
      for (let t = 1; t <= 4; t++) {
        const tensors = tf.memory().numTensors;
        tf.tidy(() => adamw.apply(grads(params), lr, clip));
        expect(tf.memory().numTensors).toBe(tensors);
        // The same step by hand, in float64.
        const g = await Promise.all(grads(reference).map(async (x) => Float64Array.from(await x.data())));
        const norm = Math.sqrt(g.reduce((s, x) => s + x.reduce((a, b) => a + b * b, 0), 0));
        const scale = clip === null ? 1 : clip / Math.max(norm, clip);
        for (const [i, p] of reference.entries()) {
          const w = Float64Array.from(await p.variable.data());
          for (let k = 0; k < w.length; k++) {
            const gk = ((g[i] as Float64Array)[k] as number) * scale;
            (m[i] as Float64Array)[k] = 0.9 * ((m[i] as Float64Array)[k] as number) + 0.1 * gk;
            (v[i] as Float64Array)[k] = 0.95 * ((v[i] as Float64Array)[k] as number) + 0.05 * gk * gk;
            const mHat = ((m[i] as Float64Array)[k] as number) / (1 - 0.9 ** t);
            const vHat = ((v[i] as Float64Array)[k] as number) / (1 - 0.95 ** t);
            w[k] = (w[k] as number) * (p.decay ? 1 - lr * 0.1 : 1) - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
          }
          p.variable.assign(tf.tensor(Array.from(w), p.variable.shape));
        }
      }
      for (const [i, p] of params.entries()) {
        const got = await p.variable.data();
        const want = await (reference[i] as Parameter).variable.data();
        expect(got.length).toBe(want.length);
        for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo(want[k] as number, 5);
      }
      // And the moments round-trip through a checkpoint's values into a fresh optimizer.
      const saved = await adamw.moments();
      expect(saved.map((s) => s.m.length)).toEqual(params.map((p) => p.variable.size));
      const again = new AdamW(params);
      again.setMoments(saved);
      expect((await again.moments()).map((s) => Array.from(s.v.slice(0, 3)))).toEqual(
        saved.map((s) => Array.from(s.v.slice(0, 3))),
      );
      adamw.dispose();
      again.dispose();
    },
  );

  it('frees every buffer it made when disposed (small and large parameters alike)', () => {
    const { make } = setup();
    const params = make();
    const before = tf.memory();
    new AdamW(params).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });

  it('refuses moments of the wrong size', () => {
    const { make } = setup();
    const adamw = new AdamW(make());
    expect(() => adamw.setMoments([{ m: new Float32Array(2), v: new Float32Array(2) }])).toThrow(
      /parameter 0 have 2 values, not 3/,
    );
    adamw.dispose();
  });
});
