/**
 * Over-fitting: validation loss (a trailing mean of three evaluations) has risen above its running minimum by more than a tolerance for
 * `patience` evaluations in a row, while training loss kept falling. A pure function over the metric
 * series, so the run view, the CLI and early stopping all agree.
 */

export interface LossPoint {
  step: number;
  trainLoss: number;
  valLoss: number;
}

export interface OverfitOptions {
  /** evaluations in a row above the minimum before it counts */
  patience: number;
  /** relative rise above the running minimum that counts (0.01 = 1%) */
  tolerance: number;
  /** training loss must have fallen by at least this fraction over the same evaluations */
  trainDrop: number;
}

export const defaultOverfit: OverfitOptions = { patience: 5, tolerance: 0.01, trainDrop: 0.001 };

export interface OverfitVerdict {
  overfitting: boolean;
  /** the step of the best validation loss, where over-fitting began */
  beganAt: number | null;
  bestStep: number | null;
  bestValLoss: number | null;
  /** validation minus training loss at each point */
  gap: Array<{ step: number; gap: number }>;
}

export function detectOverfitting(points: LossPoint[], options: OverfitOptions = defaultOverfit): OverfitVerdict {
  const gap = points.map((p) => ({ step: p.step, gap: p.valLoss - p.trainLoss }));
  // A trailing mean over three evaluations, so a noisy minimum does not make ordinary noise look like a rise.
  const smoothed = points.map((point, i) => {
    const window = points.slice(Math.max(0, i - 2), i + 1);
    return { ...point, valLoss: window.reduce((sum, p) => sum + p.valLoss, 0) / window.length };
  });
  let best: LossPoint | null = null;
  let streak = 0;
  for (const point of smoothed) {
    if (best === null || point.valLoss < best.valLoss) {
      best = point;
      streak = 0;
      continue;
    }
    const rose = point.valLoss > best.valLoss * (1 + options.tolerance);
    // Train loss still falling: compare with where it was at the validation minimum.
    const trainFalling = point.trainLoss < best.trainLoss * (1 - options.trainDrop);
    streak = rose && trainFalling ? streak + 1 : 0;
    if (streak >= options.patience) {
      const raw = points.find((p) => p.step === best?.step) as LossPoint;
      return { overfitting: true, beganAt: best.step, bestStep: best.step, bestValLoss: raw.valLoss, gap };
    }
  }
  const lowest = points.reduce<LossPoint | null>((m, p) => (m === null || p.valLoss < m.valLoss ? p : m), null);
  return {
    overfitting: false,
    beganAt: null,
    bestStep: lowest?.step ?? null,
    bestValLoss: lowest?.valLoss ?? null,
    gap,
  };
}
