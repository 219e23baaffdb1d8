import { Random } from '../../random';
import type { FlopCount, ParamCount } from '../accounting';
import { type Tensor, tf, type Variable } from '../tf';

/** What the trainer needs from any model family. */

export interface Batch {
  /** GPT: int32 token ids [B, T]; MLP: float32 features [B, F] */
  x: Tensor;
  /** GPT: int32 next tokens [B, T]; MLP: float32 targets [B] or int32 class ids [B] */
  y: Tensor;
}

export interface Parameter {
  /** the model's own name for it ("h0.attn.qkv.w"), the same in every instance */
  name: string;
  variable: Variable;
  /** weight decay applies to matrices, not to biases or layer-norm gains */
  decay: boolean;
}

export interface Model {
  readonly family: 'mlp' | 'gpt';
  readonly parameters: Parameter[];
  readonly paramCount: ParamCount;
  readonly flops: FlopCount;
  /** tokens (GPT) or examples (MLP) in one batch of `batchSize` */
  itemsPerBatch(batchSize: number): number;
  /** Mean loss of a batch. `dropoutSeed` makes dropout reproducible step by step. */
  loss(batch: Batch, training: boolean, dropoutSeed: number): tf.Scalar;
  /** Classification only: the fraction of the batch whose most likely class is the right one. */
  accuracy?(batch: Batch): tf.Scalar;
  dispose(): void;
}

/** Seeded initial values, so the same seed gives the same model on every backend. */
let modelsMade = 0;

export class Initializer {
  private readonly random: Random;
  private readonly created: Parameter[] = [];
  /** tfjs variable names are global: each model's get a prefix of their own. */
  private readonly prefix = `m${++modelsMade}/`;

  constructor(seed: number) {
    this.random = new Random(seed);
  }

  normal(name: string, shape: number[], std: number, decay = true): Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = this.random.normal() * std;
    return this.add(name, tf.tensor(values, shape), decay);
  }

  uniform(name: string, shape: number[], bound: number, decay = true): Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = this.random.uniform(-bound, bound);
    return this.add(name, tf.tensor(values, shape), decay);
  }

  constant(name: string, shape: number[], value: number): Variable {
    return this.add(name, tf.fill(shape, value), false);
  }

  private add(name: string, initial: Tensor, decay: boolean): Variable {
    const variable = tf.variable(initial, true, this.prefix + name);
    initial.dispose();
    this.created.push({ name, variable, decay });
    return variable;
  }

  get parameters(): Parameter[] {
    return this.created;
  }
}

export function countWeights(parameters: Parameter[]): number {
  return parameters.reduce((n, p) => n + p.variable.size, 0);
}
