import { type FlopCount, gptParamCount, gptShape, transformerTrainingFlops } from '../accounting';
import { type Tensor, tf, type Variable } from '../tf';
import { causalSoftmax, gelu, layerNorm } from './fused';
import { type Batch, Initializer, type Model } from './model';

/**
 * A decoder-only transformer (GPT-2 style): pre-LayerNorm blocks of causal self-attention and a GELU
 * feed-forward layer, learned or rotary positions, optionally tied input and output embeddings.
 */

export interface GptConfig {
  vocabSize: number;
  contextLength: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** feed-forward width; 4 d_model when omitted */
  dFeedForward?: number;
  positions: 'learned' | 'rotary';
  tiedEmbeddings: boolean;
  dropout: number;
  /**
   * How token ids become vectors. 'onehot' is a one-hot matmul, which every backend can differentiate
   * (tfjs's WASM backend has no gradient for gather); 'gather' is cheaper for large vocabularies.
   */
  embedding: 'gather' | 'onehot';
  /**
   * Gradient checkpointing: keep only each block's input for the backward pass and recompute the
   * block's activations there, one block at a time. A step then holds about one block's activations
   * instead of every block's, for about a third more compute. Off when omitted.
   */
  recompute?: boolean;
}

export function gptFlops(config: GptConfig): FlopCount {
  return transformerTrainingFlops(gptShape(config), gptParamCount(config));
}

interface Block {
  norm1: [Variable, Variable];
  qkv: [Variable, Variable];
  proj: [Variable, Variable];
  norm2: [Variable, Variable];
  fc: [Variable, Variable];
  out: [Variable, Variable];
}

export function createGpt(config: GptConfig, seed: number): Model {
  const shape = gptShape(config);
  const { vocabSize: V, contextLength: T, dModel: d, nLayers: L, nHeads: H, dFeedForward: ffw } = shape;
  if (d % H !== 0) throw new RangeError(`d_model ${d} must be a multiple of n_heads ${H}`);
  const headSize = d / H;
  if (config.positions === 'rotary' && headSize % 2 !== 0)
    throw new RangeError('rotary positions need an even head size');
  const init = new Initializer(seed);
  const std = 0.02;
  // GPT-2 scales the projections that feed the residual stream by 1/sqrt(2L).
  const residualStd = std / Math.sqrt(2 * L);
  const tokenEmbedding = init.normal('wte', [V, d], std);
  const positionEmbedding = config.positions === 'learned' ? init.normal('wpe', [T, d], std) : null;
  const blocks: Block[] = [];
  for (let l = 0; l < L; l++) {
    blocks.push({
      norm1: [init.constant(`h${l}.ln1.g`, [d], 1), init.constant(`h${l}.ln1.b`, [d], 0)],
      qkv: [init.normal(`h${l}.attn.qkv.w`, [d, 3 * d], std), init.constant(`h${l}.attn.qkv.b`, [3 * d], 0)],
      proj: [init.normal(`h${l}.attn.proj.w`, [d, d], residualStd), init.constant(`h${l}.attn.proj.b`, [d], 0)],
      norm2: [init.constant(`h${l}.ln2.g`, [d], 1), init.constant(`h${l}.ln2.b`, [d], 0)],
      fc: [init.normal(`h${l}.mlp.fc.w`, [d, ffw], std), init.constant(`h${l}.mlp.fc.b`, [ffw], 0)],
      out: [init.normal(`h${l}.mlp.proj.w`, [ffw, d], residualStd), init.constant(`h${l}.mlp.proj.b`, [d], 0)],
    });
  }
  const finalNorm: [Variable, Variable] = [init.constant('ln_f.g', [d], 1), init.constant('ln_f.b', [d], 0)];
  const unembedding = config.tiedEmbeddings ? null : init.normal('lm_head', [d, V], std);

  // Constants kept across steps: the causal mask and, for rotary positions, the angle tables.
  const causalMask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
  const rotary = config.positions === 'rotary' ? rotaryTables(T, headSize) : null;

  function attention(
    x: Tensor,
    block: Block,
    batch: number,
    length: number,
    training: boolean,
    dropoutSeed: number,
  ): Tensor {
    const flat = tf.reshape(x, [batch * length, d]);
    // Q, K and V each from its third of the QKV weights: splitting the small weights (d x 3d) rather than
    // the large product (batch·length x 3d) saves a copy of every activation and its gradient's concat
    // (SplitV was 6% of a gpt-small step on WASM). Then one 4-D transpose each: tfjs's WASM backend
    // transposes 5-D tensors (a [batch, length, 3, heads, headSize] view) with a slow general loop.
    const toHeads = (part: Tensor) => tf.transpose(tf.reshape(part, [batch, length, H, headSize]), [0, 2, 1, 3]);
    const weights = tf.split(block.qkv[0], 3, 1) as [Tensor, Tensor, Tensor];
    const biases = tf.split(block.qkv[1], 3, 0) as [Tensor, Tensor, Tensor];
    let [q, k, v] = weights.map((w, i) => toHeads(tf.add(tf.matMul(flat, w), biases[i] as Tensor))) as [
      Tensor,
      Tensor,
      Tensor,
    ];
    if (rotary) {
      q = applyRotary(q, rotary, length, headSize);
      k = applyRotary(k, rotary, length, headSize);
    }
    const mask = length === T ? causalMask : tf.slice(causalMask, [0, 0], [length, length]);
    let scores = causalSoftmax(tf.matMul(q, k, false, true), mask, 1 / Math.sqrt(headSize));
    if (training && config.dropout > 0) scores = tf.dropout(scores, config.dropout, undefined, dropoutSeed);
    const mixed = tf.reshape(tf.transpose(tf.matMul(scores, v), [0, 2, 1, 3]), [batch * length, d]);
    return tf.reshape(tf.add(tf.matMul(mixed, block.proj[0]), block.proj[1]), [batch, length, d]);
  }

  function feedForward(x: Tensor, block: Block, batch: number, length: number): Tensor {
    const flat = tf.reshape(x, [batch * length, d]);
    const hidden = gelu(tf.add(tf.matMul(flat, block.fc[0]), block.fc[1]));
    return tf.reshape(tf.add(tf.matMul(hidden, block.out[0]), block.out[1]), [batch, length, d]);
  }

  function embed(ids: Tensor, batch: number, length: number): Tensor {
    const flatIds = tf.reshape(ids, [batch * length]);
    const vectors =
      config.embedding === 'onehot'
        ? tf.matMul(tf.oneHot(tf.cast(flatIds, 'int32'), V), tokenEmbedding)
        : tf.gather(tokenEmbedding, tf.cast(flatIds, 'int32'));
    let h = tf.reshape(vectors, [batch, length, d]);
    if (positionEmbedding) h = tf.add(h, tf.slice(positionEmbedding, [0, 0], [length, d]));
    return h;
  }

  return {
    family: 'gpt',
    parameters: init.parameters,
    paramCount: gptParamCount(config),
    flops: gptFlops(config),
    itemsPerBatch: (batchSize) => batchSize * T,
    loss(batch: Batch, training: boolean, dropoutSeed: number) {
      return tf.tidy(() => {
        const [size, length] = batch.x.shape as [number, number];
        const drop = (x: Tensor, salt: number) =>
          training && config.dropout > 0 ? tf.dropout(x, config.dropout, undefined, dropoutSeed + salt) : x;
        const forward = (x: Tensor, block: Block, l: number) => {
          const h = tf.tidy(() =>
            tf.add(
              x,
              drop(
                attention(layerNorm(x, ...block.norm1), block, size, length, training, dropoutSeed + 10 * l + 1),
                10 * l + 2,
              ),
            ),
          );
          return tf.tidy(() =>
            tf.add(h, drop(feedForward(layerNorm(h, ...block.norm2), block, size, length), 10 * l + 3)),
          );
        };
        let h = drop(embed(batch.x, size, length), 0);
        blocks.forEach((block, l) => {
          h = training && config.recompute ? recomputed(forward, block, l, h) : forward(h, block, l);
        });
        const final = tf.reshape(layerNorm(h, ...finalNorm), [size * length, d]);
        const logits = unembedding ? tf.matMul(final, unembedding) : tf.matMul(final, tokenEmbedding, false, true);
        const targets = tf.oneHot(tf.cast(tf.reshape(batch.y, [size * length]), 'int32'), V);
        return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))) as tf.Scalar;
      });
    },
    dispose() {
      for (const p of init.parameters) p.variable.dispose();
      causalMask.dispose();
      rotary?.cos.dispose();
      rotary?.sin.dispose();
    },
  };
}

function blockVariables(block: Block): Variable[] {
  return [block.norm1, block.qkv, block.proj, block.norm2, block.fc, block.out].flat();
}

/**
 * A block whose forward pass records nothing for the backward pass but its input: the backward pass
 * runs the block again under a tape of its own (same inputs, same dropout seeds, so the same values)
 * and takes the gradients of the input and of the block's variables from it.
 */
function recomputed(
  forward: (x: Tensor, block: Block, l: number) => Tensor,
  block: Block,
  l: number,
  input: Tensor,
): Tensor {
  // The variables go in as inputs too, so that their gradients flow out of the custom gradient.
  const variables = blockVariables(block);
  const run = tf.customGrad((...args: Array<Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as Tensor;
    (args[args.length - 1] as tf.GradSaveFunc)([x]);
    return {
      value: forward(x, block, l),
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
        // tfjs keeps one tape: a gradient taken while the outer one backpropagates starts a tape of its own
        // in the same slot and clears the slot when done, and the outer pass then fails to free its saved
        // tensors ("reading 'forEach' of null", tfjs-core 4.22). The outer tape goes back in the slot after.
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outer = state.activeTape;
        try {
          return tf.grads((input: Tensor) => forward(input, block, l))(
            [saved[0] as Tensor, ...variables],
            dy as Tensor,
          );
        } finally {
          state.activeTape = outer;
        }
      },
    };
  }) as (x: Tensor, ...variables: Variable[]) => Tensor;
  return run(input, ...variables);
}

/** cos and sin of position x frequency, [T, headSize], in the rotate-half layout. */
function rotaryTables(T: number, headSize: number): { cos: Tensor; sin: Tensor } {
  const half = headSize / 2;
  const cos = new Float32Array(T * headSize);
  const sin = new Float32Array(T * headSize);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * 10000 ** (-(2 * i) / headSize);
      for (const offset of [0, half]) {
        cos[t * headSize + i + offset] = Math.cos(angle);
        sin[t * headSize + i + offset] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [T, headSize]), sin: tf.tensor2d(sin, [T, headSize]) };
}

function applyRotary(x: Tensor, tables: { cos: Tensor; sin: Tensor }, length: number, headSize: number): Tensor {
  const cos = tf.slice(tables.cos, [0, 0], [length, headSize]);
  const sin = tf.slice(tables.sin, [0, 0], [length, headSize]);
  const [first, second] = tf.split(x, 2, -1) as [Tensor, Tensor];
  const rotated = tf.concat([tf.neg(second), first], -1);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}
