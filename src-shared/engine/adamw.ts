import { fusedKernelsOn, runFused } from './fused-kernels';
import type { Parameter } from './models/model';
import { type Tensor, tf, type Variable } from './tf';

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter) and global-norm gradient clipping.
 *
 * Small parameters (biases, LayerNorm gains: most of a transformer's tensors, few of its weights) are
 * updated together: their gradients are joined into one flat tensor and their moments kept flat, so
 * they cost a dozen kernels between them plus three each to hand back their shares, where each would
 * cost ~13 alone (PyTorch's "foreach" optimizers do the same). On WebGL and WebGPU a kernel is a shader
 * dispatch, and those dispatches were most of a small model's step. Large matrices keep their own
 * moments: joining them costs copies (on WebGL, a reshape of a packed texture is a copy) that outweigh
 * the dispatches saved. Measured in Chromium on WebGL: see the note on issue 4. On WebGPU each moment is
 * one fused kernel and a parameter's step another (`fused-kernels.ts`): three dispatches a parameter; on WASM
 * the same kernels make one pass over memory each.
 */

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export const defaultAdamW: AdamWOptions = { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 };

/** Parameters of at most this many values are updated together. */
export const jointUpdateMaxSize = 4096;

/** One parameter's moments, as a checkpoint holds them. */
export interface MomentValues {
  m: Float32Array;
  v: Float32Array;
}

interface Moments {
  m: Variable;
  v: Variable;
}

/**
 * A moment buffer of zeros. The variable holds the initial tensor's buffer by reference, so that tensor is
 * disposed here: left alive, each trainer kept two buffers the size of its moments after it was disposed.
 */
function zeroVariable(shape: number[]): Variable {
  const zeros = tf.zeros(shape);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

export class AdamW {
  step = 0;
  /** indices of the parameters updated together, and of those updated one by one */
  private readonly joint: number[] = [];
  private readonly single: number[] = [];
  private readonly jointSizes: number[];
  private readonly jointMoments: Moments | null;
  private readonly singleMoments: Moments[];

  constructor(
    private readonly parameters: Parameter[],
    private readonly options: AdamWOptions = defaultAdamW,
  ) {
    parameters.forEach((p, i) => {
      (p.variable.size <= jointUpdateMaxSize ? this.joint : this.single).push(i);
    });
    this.jointSizes = this.joint.map((i) => (parameters[i] as Parameter).variable.size);
    const jointTotal = this.jointSizes.reduce((a, b) => a + b, 0);
    this.jointMoments =
      jointTotal > 0
        ? {
            m: zeroVariable([jointTotal]),
            v: zeroVariable([jointTotal]),
          }
        : null;
    this.singleMoments = this.single.map((i) => {
      const p = parameters[i] as Parameter;
      return {
        m: zeroVariable(p.variable.shape),
        v: zeroVariable(p.variable.shape),
      };
    });
  }

  /**
   * One update from the gradients, in parameter order. Call inside tf.tidy. With `clip`, the gradients
   * are scaled so that their global norm is at most `clip`; the factor is folded into the moment
   * updates, so clipping costs no device read and no extra pass.
   */
  apply(grads: Tensor[], learningRate: number, clip: number | null): void {
    this.step++;
    if (tf.getBackend() === 'cpu') this.applyInMemory(grads, learningRate, clip);
    else this.applyOnDevice(grads, learningRate, clip);
  }

  /** The step's constants: lr m̂ / (√v̂ + ε) = stepSize m / (√v + ε̂), with stepSize = lr √c2 / c1, ε̂ = ε √c2. */
  private constants(learningRate: number) {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    return {
      stepSize: (learningRate * Math.sqrt(correction2)) / correction1,
      epsilonHat: epsilon * Math.sqrt(correction2),
      keep: 1 - learningRate * weightDecay,
    };
  }

  /**
   * The CPU backend keeps tensors in JavaScript arrays, so reading one is no device sync: one loop per
   * parameter does its whole update, where the kernels below make ~13 passes, each allocating its
   * output (they cost the engine 3% of the bench MLP's step against the naive loop's Adam).
   */
  private applyInMemory(grads: Tensor[], learningRate: number, clip: number | null): void {
    const { beta1, beta2, weightDecay } = this.options;
    const { stepSize, epsilonHat, keep } = this.constants(learningRate);
    const read = (t: Tensor) => t.dataSync() as Float32Array;
    const gradValues = grads.map(read);
    let scale = 1;
    if (clip !== null) {
      let squares = 0;
      for (const g of gradValues) for (let i = 0; i < g.length; i++) squares += (g[i] as number) ** 2;
      scale = clip / Math.max(Math.sqrt(squares), clip);
    }
    const update = (index: number, m: Float32Array, v: Float32Array, offset: number) => {
      const parameter = this.parameters[index] as Parameter;
      const w = read(parameter.variable);
      const g = gradValues[index] as Float32Array;
      const shrink = parameter.decay && weightDecay > 0 ? keep : 1;
      const next = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const grad = (g[i] as number) * scale;
        const mi = beta1 * (m[offset + i] as number) + (1 - beta1) * grad;
        const vi = beta2 * (v[offset + i] as number) + (1 - beta2) * grad * grad;
        m[offset + i] = mi;
        v[offset + i] = vi;
        next[i] = (w[i] as number) * shrink - (stepSize * mi) / (Math.sqrt(vi) + epsilonHat);
      }
      parameter.variable.assign(tf.tensor(next, parameter.variable.shape));
    };
    // Inside the caller's tf.tidy, which frees the tensors made here once the variables hold them.
    const moments = (pair: Moments) => ({ m: read(pair.m).slice(), v: read(pair.v).slice() });
    if (this.jointMoments) {
      const { m, v } = moments(this.jointMoments);
      let offset = 0;
      for (const [k, index] of this.joint.entries()) {
        update(index, m, v, offset);
        offset += this.jointSizes[k] as number;
      }
      this.jointMoments.m.assign(tf.tensor(m, this.jointMoments.m.shape));
      this.jointMoments.v.assign(tf.tensor(v, this.jointMoments.v.shape));
    }
    for (const [k, index] of this.single.entries()) {
      const pair = this.singleMoments[k] as Moments;
      const { m, v } = moments(pair);
      update(index, m, v, 0);
      pair.m.assign(tf.tensor(m, pair.m.shape));
      pair.v.assign(tf.tensor(v, pair.v.shape));
    }
  }

  private applyOnDevice(grads: Tensor[], learningRate: number, clip: number | null): void {
    const { beta1, beta2, weightDecay } = this.options;
    const { stepSize, epsilonHat, keep } = this.constants(learningRate);

    const jointGrad = this.jointMoments ? this.join(this.joint.map((i) => grads[i] as Tensor)) : null;
    const singleGrads = this.single.map((i) => grads[i] as Tensor);
    let gradWeight1: Tensor | number = 1 - beta1;
    let gradWeight2: Tensor | number = 1 - beta2;
    if (clip !== null) {
      const squares = singleGrads.map((g) => tf.sum(tf.square(g)));
      if (jointGrad) squares.push(tf.sum(tf.square(jointGrad)));
      // Many terms: on WebGPU the AddN kernel swap sums them 7 at a time (kernels.ts).
      const norm = tf.sqrt(squares.length === 1 ? (squares[0] as Tensor) : tf.addN(squares));
      const scale = tf.div(clip, tf.maximum(norm, clip));
      gradWeight1 = tf.mul(scale, 1 - beta1);
      gradWeight2 = tf.mul(tf.square(scale), 1 - beta2);
    }
    if (fusedKernelsOn()) {
      this.applyFused(jointGrad, singleGrads, [gradWeight1, gradWeight2], { stepSize, epsilonHat, keep });
      return;
    }
    const update = ({ m, v }: Moments, grad: Tensor): Tensor => {
      m.assign(tf.add(tf.mul(m, beta1), tf.mul(grad, gradWeight1)));
      v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), gradWeight2)));
      return tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilonHat)), stepSize);
    };
    const applyTo = (index: number, change: Tensor) => {
      const parameter = this.parameters[index] as Parameter;
      const w = parameter.variable;
      // Decoupled weight decay: shrink the weight itself, not the gradient.
      const decayed = parameter.decay && weightDecay > 0 ? tf.mul(w, keep) : w;
      w.assign(tf.sub(decayed, change.shape.length === w.shape.length ? change : tf.reshape(change, w.shape)));
    };
    if (this.jointMoments && jointGrad) {
      const change = update(this.jointMoments, jointGrad);
      const shares = this.joint.length === 1 ? [change] : tf.split(change, this.jointSizes);
      for (const [k, index] of this.joint.entries()) applyTo(index, shares[k] as Tensor);
    }
    for (const [k, index] of this.single.entries()) {
      applyTo(index, update(this.singleMoments[k] as Moments, singleGrads[k] as Tensor));
    }
  }

  /**
   * The same update on the fused kernels (WebGPU, WASM): each moment one kernel, each large parameter's step
   * one (the small ones share their moments' step, then take their shares). `gradWeights` are the moments'
   * weights of the gradient, (1 − β1, 1 − β2) scaled by the clipping factor.
   */
  private applyFused(
    jointGrad: Tensor | null,
    singleGrads: Tensor[],
    gradWeights: [Tensor | number, Tensor | number],
    constants: { stepSize: number; epsilonHat: number; keep: number },
  ): void {
    const { beta1, beta2, weightDecay } = this.options;
    const { stepSize, epsilonHat, keep } = constants;
    const weight =
      typeof gradWeights[0] === 'number'
        ? tf.tensor1d(gradWeights as [number, number])
        : tf.stack(gradWeights as [Tensor, Tensor]);
    const moments = ({ m, v }: Moments, g: Tensor) => {
      m.assign(runFused('IsoflopAdamWMoment', { moment: m, g, weight }, { decay: beta1, power: 1 }) as Tensor);
      v.assign(runFused('IsoflopAdamWMoment', { moment: v, g, weight }, { decay: beta2, power: 2 }) as Tensor);
    };
    const keepOf = (index: number) => ((this.parameters[index] as Parameter).decay && weightDecay > 0 ? keep : 1);
    if (this.jointMoments && jointGrad) {
      const { m, v } = this.jointMoments;
      moments(this.jointMoments, jointGrad);
      const change = tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilonHat)), stepSize);
      const shares = this.joint.length === 1 ? [change] : tf.split(change, this.jointSizes);
      for (const [k, index] of this.joint.entries()) {
        const w = (this.parameters[index] as Parameter).variable;
        const share = tf.reshape(shares[k] as Tensor, w.shape);
        w.assign(tf.sub(keepOf(index) === 1 ? w : tf.mul(w, keep), share));
      }
    }
    for (const [k, index] of this.single.entries()) {
      const pair = this.singleMoments[k] as Moments;
      moments(pair, singleGrads[k] as Tensor);
      const w = (this.parameters[index] as Parameter).variable;
      w.assign(
        runFused(
          'IsoflopAdamWStep',
          { w, m: pair.m, v: pair.v },
          { keep: keepOf(index), stepSize, epsilonHat },
        ) as Tensor,
      );
    }
  }

  private join(grads: Tensor[]): Tensor {
    const flat = grads.map((g) => tf.reshape(g, [-1]));
    return flat.length === 1 ? (flat[0] as Tensor) : tf.concat(flat);
  }

  /** Each parameter's moments, read from the device (for a checkpoint), in parameter order. */
  async moments(): Promise<MomentValues[]> {
    const values: MomentValues[] = new Array(this.parameters.length);
    if (this.jointMoments) {
      const [m, v] = (await Promise.all([this.jointMoments.m.data(), this.jointMoments.v.data()])) as Float32Array[];
      let offset = 0;
      this.joint.forEach((index, k) => {
        const size = this.jointSizes[k] as number;
        values[index] = {
          m: (m as Float32Array).subarray(offset, offset + size),
          v: (v as Float32Array).subarray(offset, offset + size),
        };
        offset += size;
      });
    }
    for (const [k, index] of this.single.entries()) {
      const { m, v } = this.singleMoments[k] as Moments;
      values[index] = { m: (await m.data()) as Float32Array, v: (await v.data()) as Float32Array };
    }
    return values;
  }

  /** Puts back moments that `moments` read, one entry per parameter in parameter order. */
  setMoments(values: MomentValues[]): void {
    values.forEach((share, i) => {
      const size = (this.parameters[i] as Parameter).variable.size;
      if (share.m.length !== size || share.v.length !== size) {
        throw new Error(`the moments of parameter ${i} have ${share.m.length} values, not ${size}`);
      }
    });
    tf.tidy(() => {
      if (this.jointMoments) {
        const m = new Float32Array(this.jointMoments.m.size);
        const v = new Float32Array(this.jointMoments.v.size);
        let offset = 0;
        this.joint.forEach((index, k) => {
          m.set((values[index] as MomentValues).m, offset);
          v.set((values[index] as MomentValues).v, offset);
          offset += this.jointSizes[k] as number;
        });
        this.jointMoments.m.assign(tf.tensor1d(m));
        this.jointMoments.v.assign(tf.tensor1d(v));
      }
      this.single.forEach((index, k) => {
        const { m, v } = this.singleMoments[k] as Moments;
        m.assign(tf.tensor((values[index] as MomentValues).m, m.shape));
        v.assign(tf.tensor((values[index] as MomentValues).v, v.shape));
      });
    });
  }

  dispose(): void {
    const all = this.jointMoments ? [this.jointMoments, ...this.singleMoments] : this.singleMoments;
    for (const { m, v } of all) {
      m.dispose();
      v.dispose();
    }
  }
}
