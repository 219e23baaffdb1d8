import { type GptConfig, gptParamCount } from './models/gpt';
import { type MlpConfig, mlpParamCount } from './models/mlp';

/**
 * Model shapes for a target size, so a sweep can ask for "about 2e5 parameters". Transformers keep
 * d_model / n_layers near a fixed aspect ratio (Kaplan et al. found loss flat across a wide band of
 * shapes at a given N) and a head size of 32 or 64; MLPs keep their depth and vary width.
 */

export type GptBase = Omit<GptConfig, 'dModel' | 'nLayers' | 'nHeads' | 'dFeedForward'>;

export interface LadderOptions {
  /** d_model / n_layers to aim for */
  aspectRatio: number;
  /** which parameter count the target means */
  count: 'total' | 'nonEmbedding';
}

export const defaultLadder: LadderOptions = { aspectRatio: 32, count: 'total' };

export function gptForParams(target: number, base: GptBase, options: LadderOptions = defaultLadder): GptConfig {
  let best: { config: GptConfig; score: number } | null = null;
  for (let dModel = 16; dModel <= 4096; dModel += 16) {
    const headSize = dModel >= 512 ? 64 : dModel >= 64 ? 32 : 16;
    if (dModel % headSize !== 0) continue;
    for (let nLayers = 1; nLayers <= 64; nLayers++) {
      const ratio = dModel / nLayers;
      if (ratio < options.aspectRatio / 4 || ratio > options.aspectRatio * 4) continue;
      const config: GptConfig = { ...base, dModel, nLayers, nHeads: dModel / headSize };
      const count = gptParamCount(config)[options.count];
      // Size error first; among near-equal sizes, the shape closest to the aspect ratio.
      const score = Math.abs(Math.log(count / target)) + 0.05 * Math.abs(Math.log(ratio / options.aspectRatio));
      if (!best || score < best.score) best = { config, score };
    }
  }
  if (!best) throw new RangeError(`no transformer shape fits ${target} parameters`);
  return best.config;
}

export function mlpForParams(target: number, base: Omit<MlpConfig, 'width'>): MlpConfig {
  let best: MlpConfig = { ...base, width: 1 };
  let bestError = Number.POSITIVE_INFINITY;
  for (let width = 1; width <= 65536; width++) {
    const config = { ...base, width };
    const error = Math.abs(Math.log(mlpParamCount(config).total / target));
    if (error < bestError) {
      best = config;
      bestError = error;
    }
    if (mlpParamCount(config).total > target * 2) break;
  }
  return best;
}

/** The standard model for every throughput figure in this project (about 0.9M parameters). */
export const gptSmall: GptConfig = {
  vocabSize: 256,
  contextLength: 128,
  dModel: 128,
  nLayers: 4,
  nHeads: 4,
  positions: 'learned',
  tiedEmbeddings: true,
  dropout: 0,
  embedding: 'onehot',
};
export const gptSmallBatch = 32;
