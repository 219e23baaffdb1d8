import { gptParamCount } from './accounting';
import type { GptConfig } from './models/gpt';
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

/** Head size for a width: 64 from 512 up, 32 from 64, and 16 or 8 below (so narrow models step by 8). */
function headSizeFor(dModel: number): number {
  if (dModel >= 512) return 64;
  if (dModel >= 64) return 32;
  return dModel % 16 === 0 ? 16 : 8;
}

/**
 * Every transformer shape near the aspect ratio, one per parameter count (the one closest to the ratio), in
 * order of size: widths in steps of 8 below 64 and 16 above, depths 1 to 64.
 */
export function gptCandidates(
  base: GptBase,
  options: LadderOptions = defaultLadder,
  maxParams = Number.POSITIVE_INFINITY,
): Array<{ params: number; config: GptConfig }> {
  const byCount = new Map<number, { config: GptConfig; off: number }>();
  for (let dModel = 16; dModel <= 4096; dModel += dModel < 64 ? 8 : 16) {
    const headSize = headSizeFor(dModel);
    if (dModel % headSize !== 0) continue;
    for (let nLayers = 1; nLayers <= 64; nLayers++) {
      const ratio = dModel / nLayers;
      if (ratio < options.aspectRatio / 4 || ratio > options.aspectRatio * 4) continue;
      const config: GptConfig = { ...base, dModel, nLayers, nHeads: dModel / headSize };
      const count = gptParamCount(config)[options.count];
      if (count > maxParams) continue;
      const off = Math.abs(Math.log(ratio / options.aspectRatio));
      const current = byCount.get(count);
      if (!current || off < current.off) byCount.set(count, { config, off });
    }
  }
  return [...byCount].sort(([x], [y]) => x - y).map(([params, { config }]) => ({ params, config }));
}

export function gptForParams(target: number, base: GptBase, options: LadderOptions = defaultLadder): GptConfig {
  let best: { config: GptConfig; score: number } | null = null;
  for (const { params, config } of gptCandidates(base, options, target * 8)) {
    const ratio = config.dModel / config.nLayers;
    // Size error first; among near-equal sizes, the shape closest to the aspect ratio.
    const score = Math.abs(Math.log(params / target)) + 0.05 * Math.abs(Math.log(ratio / options.aspectRatio));
    if (!best || score < best.score) best = { config, score };
  }
  if (!best) throw new RangeError(`no transformer shape fits ${target} parameters`);
  return best.config;
}

/** Neighbouring sizes of a sweep's ladder differ by at least this factor: closer ones are near-duplicates. */
export const minSizeRatio = 1.3;

/**
 * `count` sizes spread evenly in log N over [low, high], chosen from the shapes that exist: the range starts
 * at the smallest shape where two or more sizes would fall below it (a large vocabulary's embedding puts a floor under N), widens
 * upwards until `count` sizes fit at least `minSizeRatio` apart, and never takes two near-duplicates.
 */
export function spreadSizes<T>(
  candidates: Array<{ params: number; config: T }>,
  low: number,
  high: number,
  count: number,
): Array<{ params: number; config: T }> {
  if (candidates.length === 0) return [];
  // The smallest shape moves the range up only when two or more of the sizes would fall below it (a large
  // vocabulary's embedding); otherwise the nearest shapes serve the targets as they are.
  const smallest = (candidates[0] as { params: number }).params;
  const targetsBelow = Array.from({ length: count }, (_, k) =>
    count === 1 ? Math.sqrt(low * high) : low * (high / low) ** (k / (count - 1)),
  ).filter((target) => target < smallest).length;
  const from = targetsBelow >= 2 ? smallest : low;
  const to = Math.max(high, from * minSizeRatio ** Math.max(0, count - 1) * 1.05);
  const chosen: Array<{ params: number; config: T }> = [];
  for (let k = 0; k < count; k++) {
    const target = count === 1 ? Math.sqrt(from * to) : from * (to / from) ** (k / (count - 1));
    const floor = (chosen.at(-1)?.params ?? 0) * minSizeRatio;
    let best: { params: number; config: T } | null = null;
    for (const candidate of candidates) {
      if (candidate.params < floor) continue;
      if (!best || Math.abs(Math.log(candidate.params / target)) < Math.abs(Math.log(best.params / target)))
        best = candidate;
      if (candidate.params > target * 4) break;
    }
    if (!best) break;
    chosen.push(best);
  }
  return chosen;
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

/** Every MLP width of a fixed depth, up to `maxParams`, in order of size. */
export function mlpCandidates(
  base: Omit<MlpConfig, 'width'>,
  maxParams: number,
): Array<{ params: number; config: MlpConfig }> {
  const list: Array<{ params: number; config: MlpConfig }> = [];
  for (let width = 1; width <= 65536; width++) {
    const config = { ...base, width };
    const params = mlpParamCount(config).total;
    list.push({ params, config });
    if (params > maxParams) break;
  }
  return list;
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

/** About 4x gpt-small's parameters (d_model 256): the larger model `isoflop bench --model gpt-medium` trains. */
export const gptMedium: GptConfig = { ...gptSmall, dModel: 256 };
