import { fusedKernelsOn, runFused } from '../fused-kernels';
import { type Tensor, tf } from '../tf';

/**
 * GELU and layer norm as single differentiable ops (tf.customGrad), on every backend. Written as tfjs
 * composites, each left a dozen intermediate tensors per call on the gradient tape until the step's
 * backward pass: for gpt-small on WASM, most of the 1.4 GB a step peaked at. Here the forward pass's
 * intermediates are freed as soon as it returns, only the input (and, for layer norm, the normalized
 * input and its reciprocal deviation) is kept for the backward pass, and the backward pass is the
 * derivative written out rather than one gradient per composite op. Both agree with the composites to
 * float rounding (fused.test.ts). On WebGPU and WASM each is one or two fused kernels instead (`fused-kernels.ts`).
 */

type Save = (tensors: Tensor[]) => void;

const geluScale = Math.sqrt(2 / Math.PI);
const geluCubic = 0.044715;

/**
 * Applies `ops` in turn, each to the previous result, and frees each intermediate as soon as the next
 * exists (`start` stays the caller's): a chain of element-wise ops holds two tensors at a time, where one
 * tidy would hold every intermediate until it ends (GELU's backward pass held 17 tensors of the
 * feed-forward width: a third of gpt-small's peak).
 */
function chain(start: Tensor, ...ops: Array<(previous: Tensor) => Tensor>): Tensor {
  let current = start;
  for (const op of ops) {
    const next = op(current);
    if (current !== start) current.dispose();
    current = next;
  }
  return current;
}

/**
 * σ(2√(2/π)(x + 0.044715x³)), given x and x²: 0.5(1 + tanh(u)) = σ(2u), so GELU is x times this, one
 * sigmoid where the tanh form takes a tanh and two more passes (on WASM, tanh is itself a sigmoid and
 * three passes). x³ as x²·x: tf.pow's gradient would also differentiate the exponent.
 */
const geluGate = (x: Tensor, squared: Tensor) =>
  chain(
    squared,
    (s) => tf.mul(s, x),
    (cube) => tf.mul(geluCubic, cube),
    (c) => tf.add(x, c),
    (u) => tf.mul(2 * geluScale, u),
    (z) => tf.sigmoid(z),
  );

/** GELU, the tanh approximation (Hendrycks & Gimpel) as GPT-2 uses: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
export const gelu = tf.customGrad(((x: Tensor, save: Save) => {
  save([x]);
  if (fusedKernelsOn())
    return {
      value: runFused('IsoflopGelu', { x }),
      gradFunc: (dy: Tensor, saved: Tensor[]) => [runFused('IsoflopGeluGrad', { x: saved[0] as Tensor, dy })],
    };
  const squared = tf.square(x);
  const gate = geluGate(x, squared);
  squared.dispose();
  const value = tf.mul(gate, x);
  gate.dispose();
  return {
    value,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [input] = saved as [Tensor];
      // With s = σ(z), z = 2√(2/π)(x + 0.044715x³): d/dx = s + x·s(1 − s)·2√(2/π)(1 + 3·0.044715·x²)
      const squared = tf.square(input);
      const s = geluGate(input, squared);
      const slope = chain(
        squared,
        (q) => tf.mul(3 * geluCubic, q),
        (q) => tf.add(1, q),
        (q) => tf.mul(q, input),
        (q) => tf.mul(2 * geluScale, q),
      );
      squared.dispose();
      const derivative = chain(
        s,
        (u) => tf.sub(1, u),
        (u) => tf.mul(u, s),
        (u) => tf.mul(u, slope),
        (u) => tf.add(u, s),
      );
      s.dispose();
      slope.dispose();
      const dx = tf.mul(dy, derivative);
      derivative.dispose();
      return [dx];
    },
  };
}) as never) as (x: Tensor) => Tensor;

const epsilon = 1e-5;

/** Layer norm over the last axis: (x − mean) / √(variance + 1e-5) · gain + bias. */
export const layerNorm = tf.customGrad(((x: Tensor, gain: Tensor, bias: Tensor, save: Save) => {
  if (fusedKernelsOn()) {
    // Kept: the input and each row's mean and 1/σ (x̂ is recomputed from them).
    const [value, stats] = runFused('IsoflopLayerNorm', { x, gain, bias }) as [Tensor, Tensor];
    save([x, stats, gain]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [input, rowStats, g] = saved as [Tensor, Tensor, Tensor];
        const [dx, params] = runFused('IsoflopLayerNormGrad', { x: input, stats: rowStats, gain: g, dy }) as [
          Tensor,
          Tensor,
        ];
        const [dGain, dBias] = tf.split(params, 2, 0).map((part) => {
          const shaped = tf.reshape(part, g.shape);
          part.dispose();
          return shaped;
        }) as [Tensor, Tensor];
        params.dispose();
        return [dx, dGain, dBias];
      },
    };
  }
  const [normalized, reciprocal] = tf.tidy(() => {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const inverse = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), epsilon));
    return [tf.mul(centred, inverse), inverse];
  }) as [Tensor, Tensor];
  save([normalized, reciprocal, gain]);
  return {
    value: tf.add(tf.mul(normalized, gain), bias),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [xhat, inverse, g] = saved as [Tensor, Tensor, Tensor];
      return tf.tidy(() => {
        const rows = dy.shape.slice(0, -1).reduce((a, b) => a * b, 1);
        const width = dy.shape.at(-1) as number;
        const dy2 = tf.reshape(dy, [rows, width]);
        const xhat2 = tf.reshape(xhat, [rows, width]);
        const dGain = tf.reshape(tf.sum(tf.mul(dy2, xhat2), 0), g.shape);
        const dBias = tf.reshape(tf.sum(dy2, 0), g.shape);
        // dx = inverse · (d − mean(d) − x̂ · mean(d · x̂)), d = dy · gain
        const d = tf.mul(dy, g);
        const dx = tf.mul(
          inverse,
          tf.sub(tf.sub(d, tf.mean(d, -1, true)), tf.mul(xhat, tf.mean(tf.mul(d, xhat), -1, true))),
        );
        return [dx, dGain, dBias];
      });
    },
  };
}) as never) as (x: Tensor, gain: Tensor, bias: Tensor) => Tensor;

/**
 * Attention's weights: softmax(scores · scale + mask) over the last axis, where `mask` is the causal mask
 * (0 where a position may look, −1e9 where it may not; row t of each T × T block sees keys 0..t). Only the
 * weights are kept for the backward pass (the scaled and masked scores, two more tensors of batch × heads
 * × T × T, are freed at once). On WebGPU one kernel applies the scale and the causal mask itself.
 */
export const causalSoftmax = (scores: Tensor, mask: Tensor, scale: number): Tensor =>
  tf.customGrad(((s: Tensor, save: Save) => {
    if (fusedKernelsOn()) {
      const weights = runFused('IsoflopCausalSoftmax', { scores: s }, { scale }) as Tensor;
      save([weights]);
      return {
        value: weights,
        gradFunc: (dy: Tensor, saved: Tensor[]) => [
          runFused('IsoflopSoftmaxGrad', { y: saved[0] as Tensor, dy }, { scale }) as Tensor,
        ],
      };
    }
    const weights = tf.tidy(() => tf.softmax(tf.add(tf.mul(s, scale), mask)));
    save([weights]);
    return {
      value: weights,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [y] = saved as [Tensor];
        // d/ds = scale · y ⊙ (dy − Σ dy ⊙ y); the mask is a constant.
        return tf.tidy(() => [tf.mul(tf.mul(y, tf.sub(dy, tf.sum(tf.mul(dy, y), -1, true))), scale)]);
      },
    };
  }) as never)(scores) as Tensor;
