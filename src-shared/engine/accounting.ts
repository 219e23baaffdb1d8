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

/**
 * Bytes of activations one transformer training step holds at its peak (the gradient tape's tensors,
 * tfjs 4.22), `batchSize` sequences of the full context, with every block's kept or (`recompute`) each
 * block recomputed in the backward pass. Fitted (least relative error) to peaks measured with
 * `peakBufferBytes` on the CPU backend over 64 shapes (d_model, n_layers, heads, context, feed-forward
 * width, vocabulary), with GELU, layer norm and the masked softmax fused (models/fused.ts), in floats per
 * token: each block keeps 40 d + 12 d_ff, and the embedding, final norm and loss 22 d + 11 V; recomputed,
 * one block's worth (16 d + 22 d_ff) plus 11 d per block, and 16 d + 10.5 V. The peak comes from
 * different phases of the step for different shapes (the loss's V-wide tensors or a block's), which one
 * sum does not follow exactly: the estimate is within 0.85–1.25 of the measured peak, 1.15 for gpt-small
 * (44k floats a token measured, 89k before the fused ops); dropout adds about a tenth.
 */
export function transformerActivationBytes(shape: TransformerShape, batchSize: number, recompute: boolean): number {
  const { vocabSize: V, contextLength: T, dModel: d, nLayers: L, dFeedForward: ffw } = shape;
  const perToken = recompute
    ? 16 * d + 22 * ffw + 16 * d + 10.5 * V + 11 * L * d
    : L * (40 * d + 12 * ffw) + 22 * d + 11 * V;
  return 4 * perToken * batchSize * T;
}
