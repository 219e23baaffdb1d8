/** Small statistics helpers shared by the fits. */

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
}

/** The 2.5% and 97.5% percentiles of a bootstrap sample. */
export function interval95(values: number[]): [number, number] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return [quantile(sorted, 0.025), quantile(sorted, 0.975)];
}

/** Items grouped by their stratum (a run's budget), strata in order of first appearance. */
export function byStratum<T>(items: T[], strata: number[]): T[][] {
  const groups = new Map<number, T[]>();
  items.forEach((item, i) => {
    const key = strata[i] ?? 0;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  });
  return [...groups.values()];
}

/** One bootstrap resample: each group's items drawn with replacement, as many as it holds. */
export function resampleWithin<T>(groups: T[][], random: { int(n: number): number }): T[] {
  return groups.flatMap((group) => group.map(() => group[random.int(group.length)] as T));
}

/** Ordinary least squares y = intercept + slope x. */
export function linearFit(x: number[], y: number[]): { slope: number; intercept: number } {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += ((x[i] as number) - mx) ** 2;
    sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Least-squares parabola y = c0 + c1 x + c2 x², by the normal equations (x centred for stability). */
export function parabolaFit(x: number[], y: number[]): { c0: number; c1: number; c2: number } {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  for (let i = 0; i < n; i++) {
    const u = (x[i] as number) - mean;
    const v = y[i] as number;
    s1 += u;
    s2 += u * u;
    s3 += u * u * u;
    s4 += u * u * u * u;
    t0 += v;
    t1 += u * v;
    t2 += u * u * v;
  }
  // Solve [[n, s1, s2], [s1, s2, s3], [s2, s3, s4]] [b0, b1, b2] = [t0, t1, t2] by Cramer's rule.
  const det3 = (m: number[]) =>
    (m[0] as number) * ((m[4] as number) * (m[8] as number) - (m[5] as number) * (m[7] as number)) -
    (m[1] as number) * ((m[3] as number) * (m[8] as number) - (m[5] as number) * (m[6] as number)) +
    (m[2] as number) * ((m[3] as number) * (m[7] as number) - (m[4] as number) * (m[6] as number));
  const d = det3([n, s1, s2, s1, s2, s3, s2, s3, s4]);
  const b0 = det3([t0, s1, s2, t1, s2, s3, t2, s3, s4]) / d;
  const b1 = det3([n, t0, s2, s1, t1, s3, s2, t2, s4]) / d;
  const b2 = det3([n, s1, t0, s1, s2, t1, s2, s3, t2]) / d;
  // Back from u = x − mean to x.
  return { c0: b0 - b1 * mean + b2 * mean * mean, c1: b1 - 2 * b2 * mean, c2: b2 };
}
