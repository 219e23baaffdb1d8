import { axisTicks, escapeHtml } from './svg';

/**
 * Parallel coordinates for a study: one vertical axis per parameter and one for the objective, one line per
 * trial across them, coloured by its value (best dark blue, worst yellow), as Optuna's plot does. An SVG
 * string, like every chart (the app and the reports show the same picture).
 */

export interface ParallelAxis {
  label: string;
  /** numbers, or choices as strings */
  values: Array<number | string>;
  log?: boolean;
}

export interface ParallelSpec {
  title: string;
  axes: ParallelAxis[];
  /** the objective per trial (lower is better); the last axis */
  objective: { label: string; values: number[] };
  width?: number;
  height?: number;
}

/** viridis at t in [0, 1], from five stops */
export function viridis(t: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i] as number[], stops[i + 1] as number[]];
  const c = a.map((v, k) => Math.round(v + f * ((b[k] as number) - v)));
  return `rgb(${c.join(',')})`;
}

interface Scale {
  at(value: number | string): number;
  ticks: Array<{ at: number; label: string }>;
}

/** Maps an axis's values to [0, 1] (0 at the bottom). */
function scaleOf(values: Array<number | string>, log: boolean): Scale {
  if (values.some((v) => typeof v === 'string')) {
    const choices = [...new Set(values.map(String))];
    const at = (v: number | string) => (choices.length === 1 ? 0.5 : choices.indexOf(String(v)) / (choices.length - 1));
    return { at, ticks: choices.map((c) => ({ at: at(c), label: c })) };
  }
  const nums = (values as number[]).filter((v) => Number.isFinite(v) && (!log || v > 0));
  const f = (v: number) => (log ? Math.log10(v) : v);
  let lo = Math.min(...nums.map(f));
  let hi = Math.max(...nums.map(f));
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
  const at = (v: number | string) => (f(v as number) - lo) / (hi - lo);
  // axisTicks() takes the domain in log10 units on a log axis and answers values in data units.
  const marks = axisTicks([lo, hi], log).filter((t) => f(t.value) >= lo - 1e-9 && f(t.value) <= hi + 1e-9);
  return { at, ticks: marks.slice(0, 6).map((t) => ({ at: at(t.value), label: t.label })) };
}

export function renderParallelCoordinates(spec: ParallelSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 300;
  const margin = { left: 50, right: 60, top: 34, bottom: 24 };
  const axes = [...spec.axes, { label: spec.objective.label, values: spec.objective.values, log: false }];
  const n = spec.objective.values.length;
  const scales = axes.map((axis) => scaleOf(axis.values, axis.log ?? false));
  const x = (i: number) =>
    margin.left + (axes.length === 1 ? 0 : (i / (axes.length - 1)) * (width - margin.left - margin.right));
  const y = (u: number) => height - margin.bottom - u * (height - margin.top - margin.bottom);
  const objective = scales[scales.length - 1] as Scale;
  const parts: string[] = [];
  // Worst first, so the best lines are drawn on top.
  const order = Array.from({ length: n }, (_, t) => t).sort(
    (a, b) => (spec.objective.values[b] as number) - (spec.objective.values[a] as number),
  );
  for (const t of order) {
    const color = viridis(objective.at(spec.objective.values[t] as number));
    const d = axes
      .map(
        (axis, i) =>
          `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y((scales[i] as Scale).at(axis.values[t] as number | string)).toFixed(1)}`,
      )
      .join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6" opacity="0.85"/>`);
  }
  axes.forEach((axis, i) => {
    const scale = scales[i] as Scale;
    parts.push(
      `<line x1="${x(i)}" x2="${x(i)}" y1="${y(0)}" y2="${y(1)}" stroke="#1b1e27" stroke-width="1" class="axis"/>`,
    );
    parts.push(
      `<text x="${x(i)}" y="${margin.top - 14}" text-anchor="middle" font-size="12" fill="#1b1e27" class="axis-label">${escapeHtml(axis.label)}</text>`,
    );
    for (const tick of scale.ticks) {
      parts.push(
        `<line x1="${x(i) - 3}" x2="${x(i)}" y1="${y(tick.at)}" y2="${y(tick.at)}" stroke="#1b1e27" class="axis"/>`,
      );
      parts.push(
        `<text x="${x(i) - 5}" y="${y(tick.at) + 4}" text-anchor="end" font-size="10" fill="#5d6375" class="tick">${escapeHtml(tick.label)}</text>`,
      );
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(spec.title)}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}
