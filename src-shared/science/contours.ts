import { type ComputeModel, computeOptimal, type ScalingLaw, sixND } from './parametric';

/**
 * Iso-loss contours of L(N, D) = E + A/N^α + B/D^β in the (N, D) plane, drawn exactly: on a contour,
 * D(N) = (B / (L − E − A/N^α))^(1/β). With the compute-optimal frontier through them.
 */
export function isoLossContours(
  law: ScalingLaw,
  nRange: [number, number],
  levels: number[],
  samples = 60,
  /** drop points outside this token range, so the asymptotes do not stretch the axis */
  dRange: [number, number] = [0, Number.POSITIVE_INFINITY],
) {
  const [low, high] = nRange;
  const grid = Array.from({ length: samples }, (_, i) => low * (high / low) ** (i / (samples - 1)));
  return levels.map((loss) => ({
    loss,
    points: grid.flatMap((n) => {
      const room = loss - law.E - law.A / n ** law.alpha;
      const d = room > 0 ? (law.B / room) ** (1 / law.beta) : Number.NaN;
      return d >= dRange[0] && d <= dRange[1] ? [{ x: n, y: d }] : [];
    }),
  }));
}

export function efficientFrontier(
  law: ScalingLaw,
  flopsRange: [number, number],
  samples = 30,
  compute: ComputeModel = sixND,
) {
  const [low, high] = flopsRange;
  return Array.from({ length: samples }, (_, i) => {
    const optimum = computeOptimal(law, low * (high / low) ** (i / (samples - 1)), compute);
    return { x: optimum.params, y: optimum.tokens };
  });
}

/** Loss levels spread between the runs' best and worst, rounded for the legend. */
export function contourLevels(law: ScalingLaw, losses: number[], count = 5): number[] {
  const low = Math.max(law.E * 1.001, Math.min(...losses));
  const high = Math.max(...losses);
  return Array.from({ length: count }, (_, i) => Number((low + ((high - low) * (i + 0.5)) / count).toPrecision(3)));
}
