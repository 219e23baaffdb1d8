/**
 * The one chart renderer: data -> an SVG string with log or linear axes, points, lines and bands.
 * The app shows it (Chart.svelte) and reports embed it, so both draw the same picture. Vector,
 * self-contained, no scripts.
 */

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  label: string;
  color: string;
  kind: 'points' | 'line' | 'band';
  points: ChartPoint[];
  /** bands: the upper edge (points is the lower edge) */
  upper?: ChartPoint[];
  dashed?: boolean;
  size?: number;
  legend?: boolean;
  /** 0..1; a faded raw curve behind its smoothed one, say */
  opacity?: number;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  yLog?: boolean;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** the x-range shown (zoom); the y-range then fits the points inside it */
  xRange?: [number, number] | null;
}

/** Where the plot sits in the SVG and what it shows: what a pointer over the chart needs to read x back. */
export interface ChartFrame {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  /** data domains, in log10 units on a log axis */
  xDomain: [number, number];
  yDomain: [number, number];
  xLog: boolean;
  yLog: boolean;
}

export function chartFrame(spec: ChartSpec): ChartFrame {
  const xLog = spec.xLog ?? true;
  const yLog = spec.yLog ?? false;
  const range = spec.xRange ?? null;
  const all = spec.series
    .flatMap((s) => [...s.points, ...(s.upper ?? [])])
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const inRange = range ? all.filter((p) => p.x >= range[0] && p.x <= range[1]) : all;
  const xDomain: [number, number] =
    range && (!xLog || range[0] > 0)
      ? [xLog ? Math.log10(range[0]) : range[0], xLog ? Math.log10(range[1]) : range[1]]
      : extent(
          all.map((p) => p.x),
          xLog,
        );
  const yDomain = extent(
    (inRange.length > 0 ? inRange : all).map((p) => p.y),
    yLog,
  );
  return {
    width: spec.width ?? 560,
    height: spec.height ?? 300,
    margin: { left: 58, right: 14, top: 12, bottom: 40 },
    xDomain,
    yDomain,
    xLog,
    yLog,
  };
}

/** The data x under a horizontal position in SVG units. */
export function invertX(frame: ChartFrame, px: number): number {
  const { margin, width, xDomain, xLog } = frame;
  const fraction = Math.min(1, Math.max(0, (px - margin.left) / (width - margin.left - margin.right)));
  const value = xDomain[0] + fraction * (xDomain[1] - xDomain[0]);
  return xLog ? 10 ** value : value;
}

export const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function extent(values: number[], log: boolean): [number, number] {
  const usable = log ? values.filter((v) => v > 0) : values;
  if (usable.length === 0) return [0, 1];
  let low = Math.min(...usable);
  let high = Math.max(...usable);
  // Equal, or so close that ticks could not step between them in floating point: widen.
  if (high - low <= 1e-9 * Math.max(Math.abs(low), Math.abs(high))) {
    [low, high] = log
      ? [low / 2, high * 2]
      : low === 0
        ? [-1, 1]
        : [low - Math.abs(low) / 2, high + Math.abs(high) / 2];
  }
  if (log) {
    const span = Math.log10(high / low);
    return [Math.log10(low) - 0.05 * span, Math.log10(high) + 0.05 * span];
  }
  const pad = 0.06 * (high - low);
  return [low - pad, high + pad];
}

export function ticks(domain: [number, number], log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    if (!Number.isFinite(domain[0]) || !Number.isFinite(domain[1])) return [];
    for (let e = Math.ceil(domain[0]); e <= Math.floor(domain[1]); e++) out.push(10 ** e);
    if (out.length < 3) {
      for (let e = Math.floor(domain[0]); e <= Math.ceil(domain[1]); e++) {
        for (const m of [2, 5]) {
          const v = m * 10 ** e;
          if (Math.log10(v) >= domain[0] && Math.log10(v) <= domain[1]) out.push(v);
        }
      }
    }
    return out.sort((a, b) => a - b);
  }
  const span = domain[1] - domain[0];
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const out: number[] = [];
  const first = Math.ceil(domain[0] / nice);
  for (let k = 0; k <= 12 && (first + k) * nice <= domain[1]; k++)
    out.push(Number(((first + k) * nice).toPrecision(12)));
  return out;
}

export function tickLabel(v: number, log: boolean): string {
  if (log) {
    const e = Math.floor(Math.log10(v) + 1e-9);
    const m = Math.round(v / 10 ** e);
    return m === 1 ? `1e${e}` : `${m}e${e}`;
  }
  const size = Math.abs(v);
  if (size >= 1e4) {
    // Compact, like a person writes them: 20k, 1.5M (long exponents crowd the axis of a small chart).
    const [scale, unit] = (
      [
        [1e12, 'T'],
        [1e9, 'G'],
        [1e6, 'M'],
        [1e3, 'k'],
      ] as const
    ).find(([s]) => size >= s) ?? [1, ''];
    return `${Number((v / scale).toPrecision(3))}${unit}`;
  }
  return size < 0.01 && v !== 0 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

let clipCount = 0;

export function renderChart(spec: ChartSpec): string {
  const { series } = spec;
  const { width, height, margin, xDomain: xd, yDomain: yd, xLog, yLog } = chartFrame(spec);
  const sx = (x: number) =>
    margin.left + (((xLog ? Math.log10(x) : x) - xd[0]) / (xd[1] - xd[0])) * (width - margin.left - margin.right);
  const sy = (y: number) =>
    height -
    margin.bottom -
    (((yLog ? Math.log10(y) : y) - yd[0]) / (yd[1] - yd[0])) * (height - margin.top - margin.bottom);
  const ok = (p: ChartPoint) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!xLog || p.x > 0) && (!yLog || p.y > 0);
  const path = (points: ChartPoint[]) =>
    points
      .filter(ok)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join('');
  const parts: string[] = [];
  for (const t of ticks(xd, xLog)) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#e3e5ee" class="grid"/>`,
    );
    parts.push(
      `<text x="${sx(t)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11" fill="#5d6375" class="tick">${tickLabel(t, xLog)}</text>`,
    );
  }
  for (const t of ticks(yd, yLog)) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e3e5ee" class="grid"/>`,
    );
    parts.push(
      `<text x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" fill="#5d6375" class="tick">${tickLabel(t, yLog)}</text>`,
    );
  }
  parts.push(
    `<text x="${(margin.left + width - margin.right) / 2}" y="${height - 6}" text-anchor="middle" font-size="12" fill="#1b1e27" class="axis-label">${escapeHtml(spec.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${(margin.top + height - margin.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#1b1e27" class="axis-label">${escapeHtml(spec.yLabel)}</text>`,
  );
  // Zoomed: lines that run past the x-range are clipped to the plot.
  const clip = spec.xRange ? `isoflop-clip-${++clipCount}` : null;
  if (clip) {
    parts.push(
      `<clipPath id="${clip}"><rect x="${margin.left}" y="${margin.top}" width="${width - margin.left - margin.right}" height="${height - margin.top - margin.bottom}"/></clipPath><g clip-path="url(#${clip})">`,
    );
  }
  for (const s of series) {
    if (s.kind === 'band' && s.upper) {
      parts.push(
        `<path d="${path(s.points)}${path([...s.upper].reverse()).replace(/^M/, 'L')}Z" fill="${s.color}" opacity="0.18"/>`,
      );
    } else if (s.kind === 'line') {
      parts.push(
        `<path d="${path(s.points)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}${s.opacity !== undefined ? ` opacity="${s.opacity}"` : ''}/>`,
      );
    } else if (s.kind === 'points') {
      for (const p of s.points.filter(ok)) {
        parts.push(
          `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${s.size ?? 3.5}" fill="${s.color}" stroke="white" stroke-width="0.8"/>`,
        );
      }
    }
  }
  if (clip) parts.push('</g>');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(spec.title)}" font-family="system-ui, sans-serif">${parts.join('')}</svg>`;
}
