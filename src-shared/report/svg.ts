import { compactUnits } from '../format';

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

/** One tick on an axis: where (data units) and what it says. */
export interface AxisTick {
  value: number;
  label: string;
}

/**
 * The ticks of an axis, labelled the same way along it: nice steps (1, 2, 5 × 10^k) on a linear axis, decades
 * on a log axis (with 2 and 5 between them, or linear steps, where the axis spans less), every label distinct
 * and written with as many digits as the step needs ("0.002, 0.004", "1.5M, 2M", "1e5, 1e6").
 * The domain is in log10 units on a log axis.
 */
export function axisTicks(domain: [number, number], log: boolean): AxisTick[] {
  if (!Number.isFinite(domain[0]) || !Number.isFinite(domain[1])) return [];
  if (!log) return labelLinear(linearTicks(domain));
  const decades: number[] = [];
  for (let e = Math.ceil(domain[0] - 1e-9); e <= Math.floor(domain[1] + 1e-9); e++) decades.push(10 ** e);
  let values = decades;
  if (values.length < 3) {
    const between: number[] = [];
    for (let e = Math.floor(domain[0]); e <= Math.ceil(domain[1]); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (Math.log10(v) >= domain[0] - 1e-9 && Math.log10(v) <= domain[1] + 1e-9) between.push(v);
      }
    }
    values = between;
  }
  // Less than a factor of about 2.5: steps in data units say more than one or two marks.
  if (values.length < 3) return labelLinear(linearTicks([10 ** domain[0], 10 ** domain[1]]));
  const plain = values.every((v) => v >= 1e-2 && v < 1e4);
  return values.map((value) => ({ value, label: plain ? String(Number(value.toPrecision(6))) : powerLabel(value) }));
}

function powerLabel(v: number): string {
  const e = Math.floor(Math.log10(v) + 1e-9);
  const m = Math.round(v / 10 ** e);
  return m === 1 ? `1e${e}` : `${m}e${e}`;
}

function linearTicks(domain: [number, number]): number[] {
  const span = domain[1] - domain[0];
  if (!(span > 0)) return [domain[0]];
  const step = 10 ** Math.floor(Math.log10(span / 5));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10;
  const out: number[] = [];
  const first = Math.ceil(domain[0] / nice - 1e-9);
  for (let k = 0; k <= 12 && (first + k) * nice <= domain[1] + 1e-9 * Math.abs(nice); k++)
    out.push(Number(((first + k) * nice).toPrecision(12)));
  return out;
}

/** Labels for evenly spaced values: the digits the step needs, the same form for all of them. */
function labelLinear(values: number[]): AxisTick[] {
  const step =
    values.length > 1 ? Math.abs((values[1] as number) - (values[0] as number)) : Math.abs(values[0] ?? 1) || 1;
  const biggest = Math.max(...values.map(Math.abs));
  // Steps lost to rounding (values one floating-point step apart): as many digits as can differ.
  const decimalsFor = (unit: number) =>
    step > 0 ? Math.min(12, Math.max(0, -Math.floor(Math.log10(step / unit) + 1e-9))) : 12;
  const trim = (text: string) => (text.includes('.') ? text.replace(/\.?0+$/, '') : text);
  let write: (v: number) => string;
  if (biggest >= 1e4) {
    // Compact, as a person writes them: 20k, 1.5M (long exponents crowd the axis of a small chart).
    const [unit, suffix] = compactUnits.find(([size]) => biggest >= size) ?? [1, ''];
    const decimals = decimalsFor(unit);
    write = (v) => (v === 0 ? '0' : `${trim((v / unit).toFixed(decimals))}${suffix}`);
  } else if (decimalsFor(1) <= 5) {
    const decimals = decimalsFor(1);
    write = (v) => v.toFixed(decimals);
  } else {
    // Tiny steps: one exponent for the whole axis, so "9.5e-5" never sits beside "1.0e-4".
    const exponent = Math.floor(Math.log10(biggest) + 1e-9);
    const decimals = decimalsFor(10 ** exponent);
    write = (v) => (v === 0 ? '0' : `${(v / 10 ** exponent).toFixed(decimals)}e${exponent}`);
  }
  return values.map((value) => ({ value, label: write(value) }));
}

/** Where a data x lands, in SVG units. */
export function projectX(frame: ChartFrame, x: number): number {
  const { margin, width, xDomain: d, xLog } = frame;
  return margin.left + (((xLog ? Math.log10(x) : x) - d[0]) / (d[1] - d[0])) * (width - margin.left - margin.right);
}

/** Where a data y lands, in SVG units. */
export function projectY(frame: ChartFrame, y: number): number {
  const { margin, height, yDomain: d, yLog } = frame;
  return (
    height -
    margin.bottom -
    (((yLog ? Math.log10(y) : y) - d[0]) / (d[1] - d[0])) * (height - margin.top - margin.bottom)
  );
}

/** The data y at a vertical position in SVG units. */
export function invertY(frame: ChartFrame, py: number): number {
  const { margin, height, yDomain: d, yLog } = frame;
  const value = d[0] + ((height - margin.bottom - py) / (height - margin.top - margin.bottom)) * (d[1] - d[0]);
  return yLog ? 10 ** value : value;
}

/** A short form of a value for a read-out: four significant digits, compact past 10⁴, exponent below 10⁻³. */
export function formatReadout(v: number): string {
  const size = Math.abs(v);
  if (size >= 1e4) {
    if (size >= 1e15) return v.toExponential(2).replace('e+', 'e');
    const [unit, suffix] = compactUnits.find(([s]) => size >= s) ?? [1, ''];
    return `${Number((v / unit).toPrecision(4))}${suffix}`;
  }
  if (size < 1e-3 && v !== 0) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** What a crosshair at one horizontal position shows: the x under it and each curve's value nearest to it. */
export interface Readout {
  /** SVG units */
  px: number;
  x: number;
  rows: Array<{ label: string; color: string; x: number; y: number; px: number; py: number }>;
}

/**
 * The read-out at a pointer: each labelled line's point nearest in x, and the one nearest point of all the
 * point series (within `reach` SVG units). Faded raw curves and bands are left out; null off the plot.
 */
export function readout(spec: ChartSpec, px: number, py: number, reach = 24): Readout | null {
  const frame = chartFrame(spec);
  const { margin, width, height } = frame;
  if (px < margin.left - 4 || px > width - margin.right + 4 || py < margin.top - 4 || py > height - margin.bottom + 4)
    return null;
  const ok = (p: ChartPoint) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!frame.xLog || p.x > 0) && (!frame.yLog || p.y > 0);
  const inside = (p: ChartPoint) => {
    const [x, y] = [projectX(frame, p.x), projectY(frame, p.y)];
    return (
      x >= margin.left - 1 && x <= width - margin.right + 1 && y >= margin.top - 1 && y <= height - margin.bottom + 1
    );
  };
  const rows: Readout['rows'] = [];
  let nearest: { row: Readout['rows'][number]; distance: number } | null = null;
  for (const s of spec.series) {
    if (s.kind === 'band' || (s.opacity !== undefined && s.opacity < 1)) continue;
    const points = s.points.filter((p) => ok(p) && inside(p));
    if (s.kind === 'line') {
      if (!s.label) continue;
      // The curve's height under the pointer, between the two points either side of it.
      const at = points.map((p) => ({ p, x: projectX(frame, p.x), y: projectY(frame, p.y) })).sort((a, b) => a.x - b.x);
      const right = at.findIndex((q) => q.x >= px);
      const [a, b] = right === 0 ? [at[0], at[0]] : right < 0 ? [at.at(-1), at.at(-1)] : [at[right - 1], at[right]];
      if (!a || !b || px < (at[0]?.x ?? 0) - reach || px > (at.at(-1)?.x ?? 0) + reach) continue;
      const t = b.x > a.x ? Math.min(1, Math.max(0, (px - a.x) / (b.x - a.x))) : 0;
      const y = a.y + t * (b.y - a.y);
      const x = a.x + t * (b.x - a.x);
      rows.push({ label: s.label, color: s.color, x: invertX(frame, x), y: invertY(frame, y), px: x, py: y });
    } else {
      for (const p of points) {
        const [x, y] = [projectX(frame, p.x), projectY(frame, p.y)];
        const distance = Math.hypot(x - px, y - py);
        if (distance <= reach && (!nearest || distance < nearest.distance))
          nearest = { row: { label: s.label || 'point', color: s.color, x: p.x, y: p.y, px: x, py: y }, distance };
      }
    }
  }
  if (nearest) rows.push(nearest.row);
  if (rows.length === 0) return { px, x: invertX(frame, px), rows };
  return { px, x: nearest ? nearest.row.x : invertX(frame, px), rows };
}

let clipCount = 0;

export function renderChart(spec: ChartSpec): string {
  const { series } = spec;
  const frame = chartFrame(spec);
  const { width, height, margin, xDomain: xd, yDomain: yd, xLog, yLog } = frame;
  const sx = (x: number) => projectX(frame, x);
  const sy = (y: number) => projectY(frame, y);
  const ok = (p: ChartPoint) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!xLog || p.x > 0) && (!yLog || p.y > 0);
  const path = (points: ChartPoint[]) =>
    points
      .filter(ok)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join('');
  const parts: string[] = [];
  for (const { value: t, label } of axisTicks(xd, xLog)) {
    parts.push(
      `<line x1="${sx(t)}" x2="${sx(t)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#e3e5ee" class="grid"/>`,
    );
    parts.push(
      `<text x="${sx(t)}" y="${height - margin.bottom + 16}" text-anchor="middle" font-size="11" fill="#5d6375" class="tick">${label}</text>`,
    );
  }
  for (const { value: t, label } of axisTicks(yd, yLog)) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e3e5ee" class="grid"/>`,
    );
    parts.push(
      `<text x="${margin.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11" fill="#5d6375" class="tick">${label}</text>`,
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
