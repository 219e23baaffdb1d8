import type { OptimumPoint } from '../science/frontier';
import type { ChartSeries } from './svg';

/** What the charts of a fitted law show: the app's Frontier and reports draw the same. */

/**
 * The 95% band of N*(C) or D*(C) over the bootstrap fits, as a chart band; none where the curve has fewer
 * than two points with an interval (no bootstrap).
 */
export function optimumBand(
  curve: OptimumPoint[],
  what: 'params' | 'tokens',
  color: string,
  label: string,
): ChartSeries[] {
  const spans = curve.flatMap((p) => {
    const span = what === 'params' ? p.paramsCi95 : p.tokensCi95;
    return span ? [{ x: p.flops, span }] : [];
  });
  if (spans.length < 2) return [];
  return [
    {
      label,
      color,
      kind: 'band',
      points: spans.map((p) => ({ x: p.x, y: p.span[0] })),
      upper: spans.map((p) => ({ x: p.x, y: p.span[1] })),
    },
  ];
}
