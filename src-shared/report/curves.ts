import type { ChartPoint } from './svg';

/**
 * What a training curve goes through before it is drawn: smoothing that shows the trend without hiding
 * the raw values, and downsampling that keeps what a reader looks for (minima, maxima, the two ends).
 */

/**
 * Exponential moving average with TensorBoard's debiasing: early values are not pulled towards zero.
 * `weight` in [0, 1): 0 returns the input; 0.9 averages over about the last ten points. Non-finite
 * values pass through and do not poison what follows.
 */
export function smoothEma(points: ChartPoint[], weight: number): ChartPoint[] {
  if (weight <= 0) return points;
  let last = 0;
  let count = 0;
  return points.map((point) => {
    if (!Number.isFinite(point.y)) return point;
    last = last * weight + (1 - weight) * point.y;
    count++;
    return { x: point.x, y: last / (1 - weight ** count) };
  });
}

/**
 * At most about `maxPoints` of the points whose x lies in `range` (all when null), plus the nearest point
 * outside each end so the line reaches the edge. Points are split into buckets by position; each bucket
 * keeps its lowest and highest point, in x order, and the first and last points are always kept. `points`
 * must be sorted by x. Applied after zooming, so a zoomed-in view regains the detail.
 */
export function downsampleMinMax(
  points: ChartPoint[],
  maxPoints: number,
  range: [number, number] | null = null,
): ChartPoint[] {
  let from = 0;
  let to = points.length;
  if (range) {
    while (from < to && (points[from] as ChartPoint).x < range[0]) from++;
    while (to > from && (points[to - 1] as ChartPoint).x > range[1]) to--;
    from = Math.max(0, from - 1);
    to = Math.min(points.length, to + 1);
  }
  const visible = points.slice(from, to);
  if (visible.length <= maxPoints || maxPoints < 4) return visible;
  const buckets = Math.floor((maxPoints - 2) / 2);
  const inner = visible.length - 2;
  const out: ChartPoint[] = [visible[0] as ChartPoint];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (end <= start) continue;
    let low = start;
    let high = start;
    for (let i = start + 1; i < end; i++) {
      const y = (visible[i] as ChartPoint).y;
      if (y < (visible[low] as ChartPoint).y) low = i;
      if (y > (visible[high] as ChartPoint).y) high = i;
    }
    if (low === high) out.push(visible[low] as ChartPoint);
    else for (const i of low < high ? [low, high] : [high, low]) out.push(visible[i] as ChartPoint);
  }
  out.push(visible[visible.length - 1] as ChartPoint);
  return out;
}
