/** How numbers are shown to people, the same in the app, the CLI and reports. */

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/** The suffixes counts are written with, here, in chart ticks and in read-outs: 1.5k, 20M, 3.2B, 1.1T. */
export const compactUnits: ReadonlyArray<readonly [number, string]> = [
  [1e12, 'T'],
  [1e9, 'B'],
  [1e6, 'M'],
  [1e3, 'k'],
];

export function formatCount(n: number): string {
  if (n < 10_000) return Math.round(n).toLocaleString('en-US');
  // Past a thousand trillion a suffix stops helping (bootstrap intervals of a thin fit reach there).
  if (n >= 1e15) return n.toExponential(1).replace('e+', 'e');
  for (const [size, suffix] of compactUnits) {
    if (n >= size) {
      const value = n / size;
      return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)}${suffix}`;
    }
  }
  return String(n);
}

/**
 * A ratio such as tokens per parameter, the same in every view, the CLI and reports: one decimal below 100
 * ("2.3", "17.9"), then like a count ("700", "2,101", "158k", "1.3T").
 */
export function formatRatio(x: number): string {
  return x < 100 ? x.toFixed(1) : formatCount(x);
}

/**
 * A compute budget or FLOP count, the same everywhere: "1e7", "3e7", "2.5e18", "6.1e20" (two significant
 * digits, no "+" and no trailing ".0"); below 1,000 as a plain number.
 */
export function formatFlops(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (Math.abs(x) < 1000) return String(Number(x.toPrecision(2)));
  const [mantissa, exponent] = x.toExponential(1).split('e');
  return `${Number(mantissa)}e${Number(exponent)}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Seconds left, from the rate so far; null until there is enough to go on. */
export function estimateEta(elapsedSeconds: number, done: number, total: number): number | null {
  if (done <= 0 || elapsedSeconds < 0.5 || total <= done) return done >= total && total > 0 ? 0 : null;
  return (elapsedSeconds * (total - done)) / done;
}

export function progressBar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** A mean ± standard deviation over folds, or a dash when there is none. */
export function formatMeanStd(stat: { mean: number; std: number } | null | undefined, digits: number): string {
  return stat ? `${stat.mean.toFixed(digits)} ± ${stat.std.toFixed(digits)}` : '—';
}

/** A hyper-parameter's value as trial tables and labels show it: three significant digits, or the choice. */
export function formatParamValue(value: number | string | undefined): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(3))) : (value ?? '—');
}

/** A trial's parameters in one line: "learningRate 0.00293, width 45". */
export function formatParams(params: Record<string, number | string>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name} ${formatParamValue(value)}`)
    .join(', ');
}

/** The lowest loss the data allows: a teacher's noise (exact), or a generating process's bits per byte (an upper bound on the entropy rate). */
export interface KnownFloor {
  loss: number;
  kind: 'noise' | 'entropy bound';
}

/** A fitted figure in three significant digits, in exponent form past 10⁴ or below 10⁻³: "0.589", "1.00e+7". */
export function formatSig(x: number): string {
  return Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}

/** How a fitted E compares with the data's known floor: "the data's known noise floor is 0.09: E is 1.0% above it". */
export function knownFloorSentence(fittedE: number, floor: KnownFloor): string {
  const off = (fittedE - floor.loss) / floor.loss;
  const where = `E is ${(Math.abs(off) * 100).toFixed(1)}% ${off >= 0 ? 'above' : 'below'} it`;
  return floor.kind === 'noise'
    ? `the data's known noise floor is ${Number(floor.loss.toPrecision(3))}: ${where}`
    : `the generating process's entropy bound is ${floor.loss.toFixed(3)} nats per token, an upper bound on the true floor: ${where}`;
}

/** That comparison in parentheses, to follow a fitted E; empty when the floor is not known. */
export function formatKnownFloor(fittedE: number, floor: KnownFloor | null): string {
  return floor !== null && floor.loss > 0 ? ` (${knownFloorSentence(fittedE, floor)})` : '';
}

/**
 * The lowest loss a dataset allows, where it is known: the teacher demo's noise variance (exact), or a
 * generated corpus's bits per byte, in nats per token (an upper bound on its entropy rate).
 */
export function knownFloorOf(dataset: {
  kind: string;
  irreducibleLoss?: number | null;
  entropyBitsPerByte?: number | null;
  splits?: unknown;
}): KnownFloor | null {
  if (dataset.kind === 'table')
    return dataset.irreducibleLoss ? { loss: dataset.irreducibleLoss, kind: 'noise' } : null;
  const val = (dataset.splits as { val?: { bytes: number; tokens: number } } | undefined)?.val;
  if (!dataset.entropyBitsPerByte || !val || !(val.tokens > 0)) return null;
  return { loss: dataset.entropyBitsPerByte * Math.LN2 * (val.bytes / val.tokens), kind: 'entropy bound' };
}

/**
 * What one training position is called, once per dataset kind, everywhere: tokens for text, rows for tables
 * (a table's "D" is rows seen, as a corpus's is tokens).
 */
export function itemWords(kind: 'text' | 'table'): { one: string; many: string; Many: string; perParam: string } {
  return kind === 'table'
    ? { one: 'row', many: 'rows', Many: 'Rows', perParam: 'Rows/param' }
    : { one: 'token', many: 'tokens', Many: 'Tokens', perParam: 'Tokens/param' };
}

/** The dataset kind a model family trains on. */
export const kindOfFamily = (family: 'mlp' | 'gpt'): 'text' | 'table' => (family === 'mlp' ? 'table' : 'text');
