import { type CodeTable, cellNumber, codeOf, ScratchBatch } from './table-cells';

/**
 * Pass 2 of a CSV import: scratch records to the float32 rows a dataset stores. Numbers are
 * standardized, categories one-hot encoded, the target written last (its class code, or its value).
 * The plan is plain data, so that the reader threads (table-lanes.ts) can encode too.
 */
export interface EncodePlan {
  /** cells per scratch record (the CSV's columns) */
  cells: number;
  /** floats per row written: the features, then the target */
  width: number;
  /** the kept feature columns in order: the record's cell each one reads, and how it is encoded */
  features: Array<{ cell: number; mean: number; std: number; codes: CodeTable | null }>;
  target: { cell: number; codes: CodeTable | null };
}

/** Rows for whole scratch records; rows start as zeros, the one-hot default. */
export function encodeRecords(plan: EncodePlan, bytes: Uint8Array): Float32Array {
  const cells = new ScratchBatch(plan.cells, 1);
  cells.view(bytes);
  const count = bytes.length / cells.recordBytes;
  const { width } = plan;
  const kept = plan.features.length;
  const cellOf = Int32Array.from(plan.features, (feature) => feature.cell);
  const means = Float64Array.from(plan.features, (feature) => feature.mean);
  const stds = Float64Array.from(plan.features, (feature) => feature.std);
  const codes = plan.features.map((feature) => feature.codes);
  const { cell: targetCell, codes: targetCodes } = plan.target;
  const out = new Float32Array(count * width);
  const { values, bytes: kinds } = cells;
  for (let r = 0; r < count; r++) {
    cells.seek(r);
    const { valueAt, kindAt } = cells;
    let at = r * width;
    for (let k = 0; k < kept; k++) {
      const c = cellOf[k] as number;
      const coded = codes[k];
      if (!coded) {
        if (kinds[kindAt + c] === cellNumber) {
          out[at] = ((values[valueAt + c] as number) - (means[k] as number)) / (stds[k] as number);
        }
        at++;
        continue;
      }
      const hot = codeOf(coded, kinds[kindAt + c] as number, values[valueAt + c] as number);
      if (hot >= 0) out[at + hot] = 1;
      at += coded.size;
    }
    const target = values[valueAt + targetCell] as number;
    out[at] = targetCodes ? codeOf(targetCodes, kinds[kindAt + targetCell] as number, target) : target;
  }
  return out;
}
