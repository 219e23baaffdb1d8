/**
 * Parameter and FLOP counts, derived from a model's configuration. FLOPs follow Hoffmann et al. (2022),
 * appendix F, forward pass per sequence of length T; training = 3 x forward (backward = 2 x forward).
 * Chinchilla's Table A4 is reproduced only without the embedding and logit terms, so both totals are kept.
 */

export interface FlopCount {
  /** training FLOPs per token (or per example, for tables), every term included */
  perToken: number;
  /** the same without the embedding and final-logit terms */
  perTokenNonEmbedding: number;
  /** the 6N approximation with N = all parameters, for comparison */
  sixN: number;
}

export interface ParamCount {
  total: number;
  /** Kaplan et al.'s N: everything but the token and position embeddings (and an untied unembedding) */
  nonEmbedding: number;
}

export interface TransformerShape {
  vocabSize: number;
  contextLength: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** hidden width of the feed-forward block, usually 4 d_model */
  dFeedForward: number;
}

/** Chinchilla appendix F, forward FLOPs for one sequence of `contextLength` tokens, split by term. */
/** A GPT config's shape, its feed-forward width 4 d_model unless it names one. */
export function gptShape(config: Omit<TransformerShape, 'dFeedForward'> & { dFeedForward?: number }): TransformerShape {
  return {
    vocabSize: config.vocabSize,
    contextLength: config.contextLength,
    dModel: config.dModel,
    nLayers: config.nLayers,
    nHeads: config.nHeads,
    dFeedForward: config.dFeedForward ?? 4 * config.dModel,
  };
}

export function transformerForwardFlops(shape: TransformerShape): {
  embeddings: number;
  attention: number;
  dense: number;
  logits: number;
  total: number;
} {
  const { vocabSize: V, contextLength: T, dModel: d, nLayers: L, nHeads: H, dFeedForward: ffw } = shape;
  const keySize = d / H;
  const embeddings = 2 * T * V * d;
  const qkv = 2 * 3 * T * d * (keySize * H);
  const logitsQK = 2 * T * T * (keySize * H);
  const softmax = 3 * H * T * T;
  const softmaxV = 2 * T * T * (keySize * H);
  const project = 2 * T * (keySize * H) * d;
  const attention = qkv + logitsQK + softmax + softmaxV + project;
  const dense = 2 * T * (d * ffw + ffw * d);
  const logits = 2 * T * d * V;
  return { embeddings, attention, dense, logits, total: embeddings + L * (attention + dense) + logits };
}

export function transformerTrainingFlops(shape: TransformerShape, params: ParamCount): FlopCount {
  const forward = transformerForwardFlops(shape);
  const T = shape.contextLength;
  return {
    perToken: (3 * forward.total) / T,
    perTokenNonEmbedding: (3 * (forward.total - forward.embeddings - forward.logits)) / T,
    sixN: 6 * params.total,
  };
}

/** An MLP: each dense layer costs 2·in·out per example forward; training is 3x. */
export function mlpTrainingFlops(layerSizes: number[], params: ParamCount): FlopCount {
  let forward = 0;
  for (let i = 0; i + 1 < layerSizes.length; i++)
    forward += 2 * (layerSizes[i] as number) * (layerSizes[i + 1] as number);
  return { perToken: 3 * forward, perTokenNonEmbedding: 3 * forward, sixN: 6 * params.total };
}

/** What decides a GPT's parameter count beyond its shape (models/gpt.ts's GptConfig has both). */
export interface GptCountConfig extends Omit<TransformerShape, 'dFeedForward'> {
  dFeedForward?: number;
  positions: 'learned' | 'rotary';
  tiedEmbeddings: boolean;
}

export function gptParamCount(config: GptCountConfig): ParamCount {
  const { vocabSize: V, contextLength: T, dModel: d, nLayers: L, dFeedForward: ffw } = gptShape(config);
  const tokenEmbedding = V * d;
  const positionEmbedding = config.positions === 'learned' ? T * d : 0;
  const perLayer = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * ffw + ffw) + (ffw * d + d);
  const finalNorm = 2 * d;
  const unembedding = config.tiedEmbeddings ? 0 : d * V;
  const total = tokenEmbedding + positionEmbedding + L * perLayer + finalNorm + unembedding;
  return { total, nonEmbedding: total - tokenEmbedding - positionEmbedding - unembedding };
}

/**
 * Floats per token that one block's backward pass needs kept from its forward pass, by count (fp32, no
 * dropout): each layer norm's normalized input and its output (the next matmul's input), Q, K and V,
 * the attention weights (heads x context), the heads' mixed output, the feed-forward's pre-activation
 * and activation: 8 d + 2 d_ff + heads·T.
 */
const blockFloatsPerToken = ({ dModel: d, dFeedForward: ffw, nHeads: H, contextLength: T }: TransformerShape) =>
  8 * d + 2 * ffw + H * T;

/**
 * Bytes a transformer training step needs by count: weights, gradients and AdamW's two moments (4 floats
 * a parameter), and the activations the backward pass reads (each block's, the final norm's 2 d and the
 * loss's log-probabilities and targets, 2 V, per token of `batchSize` sequences of the full context). What
 * `isoflop bench` prints beside the peak it measures.
 */
export function transformerCountBytes(shape: TransformerShape, params: number, batchSize: number): number {
  const perToken = shape.nLayers * blockFloatsPerToken(shape) + 2 * shape.dModel + 2 * shape.vocabSize;
  return 4 * (4 * params + perToken * batchSize * shape.contextLength);
}

/**
 * Bytes one transformer training step holds at its peak beyond the weights and the optimizer's moments
 * (the activations and the gradients, tfjs 4.22 with the engine's freeing tape, tape.ts), `batchSize`
 * sequences of the full context, with every block's activations kept or (`recompute`) each block
 * recomputed in the backward pass. Fitted (least relative error) to peaks measured with
 * `peakBufferBytes` on the CPU backend over 40 random shapes (d_model, layers, heads, context,
 * feed-forward width, vocabulary, positions, batch), in floats per token: kept, 1.1 times the blocks' count
 * (`blockFloatsPerToken`) plus 5 d + 1.6 d_ff + 5.2 V of the step's transients and the loss; recomputed,
 * 0.8 d per block for its input, 1.1 times one block's count, 2 d_ff + 3.3 V + 0.8 heads·T; the gradients
 * add 0.6 (0.9 recomputed) floats per parameter. Within 0.72–1.25 of the measured peak; 232 MB for gpt-small
 * at batch 32 (about 235 MB measured; 1.8 GB before the fused ops and the freeing tape). Dropout adds about
 * a tenth.
 */
export function transformerStepBytes(
  shape: TransformerShape,
  params: number,
  batchSize: number,
  recompute: boolean,
): number {
  const { vocabSize: V, contextLength: T, dModel: d, nLayers: L, dFeedForward: ffw, nHeads: H } = shape;
  const block = blockFloatsPerToken(shape);
  const tokens = batchSize * T;
  const perToken = recompute
    ? 0.8 * L * d + 1.1 * block + 2 * ffw + 3.3 * V + 0.8 * H * T
    : 1.1 * L * block + 5 * d + 1.6 * ffw + 5.2 * V;
  return 4 * (perToken * tokens + (recompute ? 0.9 : 0.6) * params);
}
