import { type FlopCount, mlpTrainingFlops, type ParamCount } from '../accounting';
import { type Tensor, tf, type Variable } from '../tf';
import { gelu } from './fused';
import { type Batch, Initializer, type Model } from './model';

/** A multilayer perceptron for tables: regression (MSE) or classification (cross-entropy). */

export interface MlpConfig {
  inputs: number;
  width: number;
  /** hidden layers */
  depth: number;
  activation: 'tanh' | 'relu' | 'gelu';
  dropout: number;
  task: 'regression' | 'classification';
  /** 1 for regression; the number of classes for classification */
  outputs: number;
}

export function mlpLayerSizes(config: MlpConfig): number[] {
  return [config.inputs, ...Array.from({ length: config.depth }, () => config.width), config.outputs];
}

export function mlpParamCount(config: MlpConfig): ParamCount {
  const sizes = mlpLayerSizes(config);
  let total = 0;
  for (let i = 0; i + 1 < sizes.length; i++)
    total += (sizes[i] as number) * (sizes[i + 1] as number) + (sizes[i + 1] as number);
  return { total, nonEmbedding: total };
}

export function mlpFlops(config: MlpConfig): FlopCount {
  return mlpTrainingFlops(mlpLayerSizes(config), mlpParamCount(config));
}

function activate(x: Tensor, activation: MlpConfig['activation']): Tensor {
  if (activation === 'tanh') return tf.tanh(x);
  if (activation === 'relu') return tf.relu(x);
  return gelu(x);
}

export function createMlp(config: MlpConfig, seed: number): Model {
  const init = new Initializer(seed);
  const sizes = mlpLayerSizes(config);
  const layers: Array<{ w: Variable; b: Variable }> = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
    const bound = 1 / Math.sqrt(sizes[i] as number);
    const w = init.uniform(`layer${i}.weight`, [sizes[i] as number, sizes[i + 1] as number], bound);
    const b = init.uniform(`layer${i}.bias`, [sizes[i + 1] as number], bound, false);
    layers.push({ w, b });
  }
  const forward = (x: Tensor, training: boolean, dropoutSeed: number): Tensor => {
    let h = x;
    layers.forEach(({ w, b }, i) => {
      h = tf.add(tf.matMul(h, w), b);
      if (i < layers.length - 1) {
        h = activate(h, config.activation);
        if (training && config.dropout > 0) h = tf.dropout(h, config.dropout, undefined, dropoutSeed + i);
      }
    });
    return h;
  };
  return {
    family: 'mlp',
    parameters: init.parameters,
    paramCount: mlpParamCount(config),
    flops: mlpFlops(config),
    itemsPerBatch: (batchSize) => batchSize,
    loss(batch: Batch, training: boolean, dropoutSeed: number) {
      return tf.tidy(() => {
        const h = forward(batch.x, training, dropoutSeed);
        if (config.task === 'regression') return tf.mean(tf.square(tf.sub(tf.reshape(h, [-1]), batch.y))) as tf.Scalar;
        const targets = tf.oneHot(tf.cast(batch.y, 'int32'), config.outputs);
        return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(h)), -1))) as tf.Scalar;
      });
    },
    ...(config.task === 'classification'
      ? {
          accuracy(batch: Batch) {
            return tf.tidy(
              () =>
                tf.mean(
                  tf.cast(tf.equal(tf.argMax(forward(batch.x, false, 0), -1), tf.cast(batch.y, 'int32')), 'float32'),
                ) as tf.Scalar,
            );
          },
        }
      : {}),
    dispose() {
      for (const p of init.parameters) p.variable.dispose();
    },
  };
}
