/**
 * Linear warmup, then cosine decay to `minRatio` of the peak over exactly the planned run: Chinchilla
 * showed that a cosine cycle longer than the run biases the fitted law.
 */
export interface Schedule {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** the final learning rate as a fraction of the peak (Chinchilla: 0.1) */
  minRatio: number;
}

export function learningRate(step: number, schedule: Schedule): number {
  const { peak, warmupSteps, totalSteps, minRatio } = schedule;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
