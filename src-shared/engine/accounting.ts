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
