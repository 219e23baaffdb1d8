import { formatFlops } from '../format';
import { parabolaFit } from '../science/stats';
import type { ChartSeries } from './svg';

/** What a sweep's IsoFLOP chart shows: the app's Sweeps view and reports draw the same. */

/**
 * Budgets from the smallest (dark) to the largest (light), as the Frontier colours compute: viridis, its
 * darkest purple lifted (#440154 vanished on the dark theme's panels).
 */
export const computeColors = ['#7a3fa8', '#3b6fb0', '#21918c', '#5ec962', '#c8b100', '#e07b00'];

export interface ProfileBudget {
  flops: number;
  runs: Array<{ params: number; loss: number }>;
}

/** A budget's colour on a log scale between the sweep's smallest and largest budgets. */
export function computeColor(flops: number, low: number, high: number): string {
  const t = high > low ? (Math.log(flops) - Math.log(low)) / (Math.log(high) - Math.log(low)) : 0;
  return computeColors[Math.min(computeColors.length - 1, Math.floor(t * computeColors.length))] as string;
}

/**
 * Each budget's runs (loss against size), the parabola in log N fitted through them (approach 2's
 * profile) and its minimum, where there are 3 or more sizes and the parabola opens upwards. A minimum
 * outside the sizes trained is not marked: the profile does not show one.
 */
export function isoflopProfileSeries(budgets: ProfileBudget[]): ChartSeries[] {
  const flops = budgets.map((b) => b.flops);
  const [low, high] = [Math.min(...flops), Math.max(...flops)];
  const series: ChartSeries[] = [];
  const minima: Array<{ x: number; y: number }> = [];
  for (const budget of [...budgets].sort((a, b) => a.flops - b.flops)) {
    const runs = budget.runs.filter((r) => r.params > 0 && Number.isFinite(r.loss)).sort((a, b) => a.params - b.params);
    const color = computeColor(budget.flops, low, high);
    const points = runs.map((r) => ({ x: r.params, y: r.loss }));
    series.push({ label: `${formatFlops(budget.flops)} FLOPs`, color, kind: 'points', points });
    const sizes = new Set(runs.map((r) => r.params));
    if (sizes.size < 3) {
      series.push({ label: '', color, kind: 'line', points, legend: false, dashed: true });
      continue;
    }
    const { c0, c1, c2 } = parabolaFit(
      runs.map((r) => Math.log(r.params)),
      runs.map((r) => r.loss),
    );
    const [from, to] = [Math.log(runs[0]?.params as number), Math.log(runs.at(-1)?.params as number)];
    const curve = Array.from({ length: 41 }, (_, i) => from + ((to - from) * i) / 40).map((u) => ({
      x: Math.exp(u),
      y: c0 + c1 * u + c2 * u * u,
    }));
    series.push({ label: '', color, kind: 'line', points: curve, legend: false });
    const vertex = -c1 / (2 * c2);
    if (c2 > 0 && vertex >= from && vertex <= to)
      minima.push({ x: Math.exp(vertex), y: c0 + c1 * vertex + c2 * vertex * vertex });
  }
  if (minima.length > 0)
    series.push({
      label: 'minimum of each fitted parabola',
      color: '#d62728',
      kind: 'points',
      size: 5.5,
      points: minima,
    });
  return series;
}
