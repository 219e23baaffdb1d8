import type { Parameter } from './models/model';
import { type Tensor, tf, type Variable } from './tf';

/** Adam with decoupled weight decay (Loshchilov & Hutter), with its state exposed for checkpoints. */

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export const defaultAdamW: AdamWOptions = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 };

export class AdamW {
  step = 0;
  readonly moments: Array<{ m: Variable; v: Variable }>;

  constructor(
    private readonly parameters: Parameter[],
    private readonly options: AdamWOptions = defaultAdamW,
  ) {
    this.moments = parameters.map((p) => ({
      m: tf.variable(tf.zerosLike(p.variable), false, `${p.name}.adam_m`),
      v: tf.variable(tf.zerosLike(p.variable), false, `${p.name}.adam_v`),
    }));
  }

  /**
   * One update. Call inside tf.tidy; `grads` are in parameter order. `gradScale` (a scalar tensor, for
   * clipping) is folded into the moment updates, so clipping costs no extra op per parameter.
   */
  apply(grads: Tensor[], learningRate: number, gradScale?: Tensor): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    this.step++;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    // lr * m̂ / (sqrt(v̂) + eps) = stepSize * m / (sqrt(v) + eps sqrt(c2)), with stepSize = lr sqrt(c2) / c1
    const stepSize = (learningRate * Math.sqrt(correction2)) / correction1;
    const epsilonHat = epsilon * Math.sqrt(correction2);
    const keep = 1 - learningRate * weightDecay;
    const gradWeight1: Tensor | number = gradScale ? tf.mul(gradScale, 1 - beta1) : 1 - beta1;
    const gradWeight2: Tensor | number = gradScale ? tf.mul(tf.square(gradScale), 1 - beta2) : 1 - beta2;
    this.parameters.forEach((parameter, i) => {
      const grad = grads[i] as Tensor;
      const { m, v } = this.moments[i] as { m: Variable; v: Variable };
      const w = parameter.variable;
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(grad, gradWeight1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), gradWeight2)));
      const update = tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilonHat)), stepSize);
      // Decoupled weight decay: shrink the weight itself, not the gradient.
      const decayed = parameter.decay && weightDecay > 0 ? tf.mul(w, keep) : w;
      w.assign(tf.sub(decayed, update));
    });
  }

  dispose(): void {
    for (const { m, v } of this.moments) {
      m.dispose();
      v.dispose();
    }
  }
}
