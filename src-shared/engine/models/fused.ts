import { type Tensor, tf } from '../tf';

/**
 * GELU and layer norm as single differentiable ops (tf.customGrad), on every backend. Written as tfjs
 * composites, each left a dozen intermediate tensors per call on the gradient tape until the step's
 * backward pass: for gpt-small on WASM, most of the 1.4 GB a step peaked at. Here the forward pass's
 * intermediates are freed as soon as it returns, only the input (and, for layer norm, the normalized
 * input and its reciprocal deviation) is kept for the backward pass, and the backward pass is the
 * derivative written out rather than one gradient per composite op. Both agree with the composites to
 * float rounding (fused.test.ts).
 */

type Save = (tensors: Tensor[]) => void;

const geluScale = Math.sqrt(2 / Math.PI);
const geluCubic = 0.044715;

/** GELU, the tanh approximation (Hendrycks & Gimpel) as GPT-2 uses: 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))). */
export const gelu = tf.customGrad(((x: Tensor, save: Save) => {
  save([x]);
  const value = tf.tidy(() => {
    // x³ as x·x·x: tf.pow's gradient would also differentiate the exponent (never needed here).
    const inner = tf.mul(geluScale, tf.add(x, tf.mul(geluCubic, tf.mul(tf.square(x), x))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
  return {
    value,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [input] = saved as [Tensor];
      return tf.tidy(() => {
        const squared = tf.square(input);
        const t = tf.tanh(tf.mul(geluScale, tf.add(input, tf.mul(geluCubic, tf.mul(squared, input)))));
        // d/dx = 0.5(1 + t) + 0.5·x·(1 − t²)·√(2/π)(1 + 3·0.044715·x²)
        const slope = tf.mul(tf.mul(0.5 * geluScale, input), tf.add(1, tf.mul(3 * geluCubic, squared)));
        const derivative = tf.add(tf.mul(0.5, tf.add(1, t)), tf.mul(slope, tf.sub(1, tf.square(t))));
        return [tf.mul(dy, derivative)];
      });
    },
  };
}) as never) as (x: Tensor) => Tensor;

const epsilon = 1e-5;

/** Layer norm over the last axis: (x − mean) / √(variance + 1e-5) · gain + bias. */
export const layerNorm = tf.customGrad(((x: Tensor, gain: Tensor, bias: Tensor, save: Save) => {
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
 * Attention's weights: softmax(scores · scale + mask) over the last axis, mask 0 where a position may look
 * and −1e9 where it may not. Only the weights are kept for the backward pass (the scaled and masked
 * scores, two more tensors of batch × heads × T × T, are freed at once).
 */
export const maskedSoftmax = (scores: Tensor, mask: Tensor, scale: number): Tensor =>
  tf.customGrad(((s: Tensor, save: Save) => {
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
