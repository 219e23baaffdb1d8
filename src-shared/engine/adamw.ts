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

  /** One update. Call inside tf.tidy; `grads` are in parameter order. */
  apply(grads: Tensor[], learningRate: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    this.step++;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    this.parameters.forEach((parameter, i) => {
      const grad = grads[i] as Tensor;
      const { m, v } = this.moments[i] as { m: Variable; v: Variable };
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2)));
      let update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon));
      if (parameter.decay && weightDecay > 0) update = tf.add(update, tf.mul(parameter.variable, weightDecay));
      parameter.variable.assign(tf.sub(parameter.variable, tf.mul(update, learningRate)));
    });
  }

  dispose(): void {
    for (const { m, v } of this.moments) {
      m.dispose();
      v.dispose();
    }
  }
}
