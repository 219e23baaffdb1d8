import { Random } from '../random';

/**
 * k-fold cross-validation over a table's training and validation rows (the test split stays held out).
 * Rows are dealt to folds in a seeded shuffle; for classification each class is dealt on its own
 * (stratified), so every fold holds the classes in about the dataset's proportions.
 */

/** Which fold (0..k-1) each row is in. `labels`: the class of each row, or null for regression. */
export function assignFolds(rows: number, k: number, seed: number, labels: ArrayLike<number> | null): Uint8Array {
  if (!Number.isInteger(k) || k < 2 || k > 255)
    throw new RangeError(`k must be a whole number from 2 to 255, not ${k}`);
  if (k > rows) throw new RangeError(`k = ${k} folds need at least ${k} rows; there are ${rows}`);
  const random = new Random(seed);
  const folds = new Uint8Array(rows);
  const groups = new Map<number, number[]>();
  for (let r = 0; r < rows; r++) {
    const key = labels ? (labels[r] as number) : 0;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  // Dealing continues from class to class, so fold sizes differ by at most one row.
  let next = 0;
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    for (const r of random.shuffle(groups.get(key) as number[])) {
      folds[r] = next;
      next = (next + 1) % k;
    }
  }
  return folds;
}

/** Splits float32 rows of `width` values into the fold's validation rows and everyone else's training rows. */
export function foldRows(
  rows: Float32Array,
  width: number,
  folds: Uint8Array,
  fold: number,
): { train: Float32Array; val: Float32Array } {
  let valRows = 0;
  for (const f of folds) if (f === fold) valRows++;
  const train = new Float32Array((folds.length - valRows) * width);
  const val = new Float32Array(valRows * width);
  let t = 0;
  let v = 0;
  for (let r = 0; r < folds.length; r++) {
    const row = rows.subarray(r * width, (r + 1) * width);
    if (folds[r] === fold) {
      val.set(row, v);
      v += width;
    } else {
      train.set(row, t);
      t += width;
    }
  }
  return { train, val };
}

/** Per-step mean and sample standard deviation across folds, at the steps every fold reported. */
export function foldBand(curves: Array<Array<{ step: number; value: number }>>): Array<{
  step: number;
  mean: number;
  std: number;
}> {
  if (curves.length === 0) return [];
  const stepSets = curves.map((curve) => new Set(curve.map((p) => p.step)));
  const common = [...(stepSets[0] as Set<number>)].filter((s) => stepSets.every((set) => set.has(s)));
  return common
    .sort((a, b) => a - b)
    .map((step) => {
      const values = curves.map((curve) => curve.find((p) => p.step === step)?.value as number);
      return { step, ...meanStd(values) };
    });
}

export function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}
