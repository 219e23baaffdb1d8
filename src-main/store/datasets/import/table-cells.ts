import { open } from 'node:fs/promises';
import { IsoflopError } from '../../../../src-shared/contract/isoflop-error';
import type { CsvRow } from '../../../../src-shared/data/csv';

/**
 * What a CSV column holds, learned cell by cell (type, distinct values, missing cells, train-split
 * moments), and how parsed cells wait between the import's two passes: scratch records of a float64 and
 * a kind byte per cell, written and read back in batches.
 */

export const maxCategories = 100;
export const maxClasses = 1000;
const missingMarkers = new Set(['', 'na', 'n/a', 'null', 'none', '?']);
const nonFiniteLiteral = /^[+-]?(nan|inf|infinity)$/i;

/** 0, so that a fresh (zeroed) scratch batch reads as numbers until told otherwise (scanRow relies on it). */
export const cellNumber = 0;
export const cellMissing = 1;
export const cellText = 2;

export interface ColumnScan {
  name: string;
  missing: number;
  firstMissingLine: number;
  /** distinct numbers with their counts, and distinct texts with their ids (order of first appearance)
   * and counts, until there are more than `maxDistinct` of them (the target may have up to maxClasses
   * classes; a feature column, maxCategories categories) */
  values: Map<number, number>;
  texts: Map<string, number>;
  textCounts: number[];
  tooMany: boolean;
  maxDistinct: number;
  firstTextLine: number;
  firstText: string;
  allIntegers: boolean;
  /** What earlier unquoted non-number cells turned out to be (missing, or a text's id), by their bytes'
   * hash: a categorical column repeats a few texts, and a repeat then costs no string at all. */
  seen: Map<number, SeenCell>;
  /** Over the training split: count, shift K (the first value), Σ(x − K) and Σ(x − K)², the shifted-data
   * form of the variance: as stable as Welford's for data near K, without a division per cell. A typed
   * array: writing doubles to it allocates nothing, which matters at one update per cell. */
  moments: Float64Array;
}

interface SeenCell {
  bytes: Uint8Array;
  kind: number;
  id: number;
}
/** Distinct cells a column remembers; past that, new ones take the string path every time. */
const maxSeen = 2 * maxClasses;

export function invalid(message: string): IsoflopError {
  return new IsoflopError('INVALID_INPUT', message);
}

export function isMissing(value: string): boolean {
  // Decide without allocating for anything longer than the longest marker.
  if (value.length === 0) return true;
  if (value.length > 6) return false;
  return missingMarkers.has(value.trim().toLowerCase());
}

export function newScan(name: string, maxDistinct: number): ColumnScan {
  return {
    name,
    missing: 0,
    firstMissingLine: 0,
    values: new Map(),
    texts: new Map(),
    textCounts: [],
    tooMany: false,
    maxDistinct,
    firstTextLine: 0,
    firstText: '',
    allIntegers: true,
    seen: new Map(),
    moments: new Float64Array(4),
  };
}

/** The training split's mean (0 when it has no values). */
export function columnMean(scan: ColumnScan): number {
  const [n, shift, sum] = scan.moments as unknown as [number, number, number];
  return n > 0 ? shift + sum / n : 0;
}

export function sampleStd(scan: ColumnScan): number | null {
  const [n, , sum, squares] = scan.moments as unknown as [number, number, number, number];
  return n > 1 ? Math.sqrt(Math.max(0, squares - (sum * sum) / n) / (n - 1)) : null;
}

export function distinct(scan: ColumnScan): number {
  return scan.values.size + scan.texts.size;
}

function countNumber(scan: ColumnScan, value: number): void {
  if (scan.allIntegers && !Number.isInteger(value)) scan.allIntegers = false;
  if (!scan.tooMany) {
    scan.values.set(value, (scan.values.get(value) ?? 0) + 1);
    if (distinct(scan) > scan.maxDistinct) scan.tooMany = true;
  }
}

/**
 * Adds the numbers of the record `batch` points at (a training row) to the table's moments: 4 per
 * column, laid out as `ColumnScan.moments` (one array for the whole table: this runs once per cell).
 */
export function addTrainMoments(moments: Float64Array, batch: ScratchBatch): void {
  const { values, bytes, valueAt, kindAt, columns } = batch;
  for (let c = 0; c < columns; c++) {
    if (bytes[kindAt + c] !== cellNumber) continue;
    const value = values[valueAt + c] as number;
    const m = 4 * c;
    if (moments[m] === 0) moments[m + 1] = value;
    const delta = value - (moments[m + 1] as number);
    moments[m] = (moments[m] as number) + 1;
    moments[m + 2] = (moments[m + 2] as number) + delta;
    moments[m + 3] = (moments[m + 3] as number) + delta * delta;
  }
}

/**
 * Reads every cell of the row into the scratch record being filled and counts it in its column. The
 * cells the parser read as plain decimals (most cells of most tables) are handled in this one loop;
 * the rest go through `scanCell`.
 */
export function scanRow(scans: ColumnScan[], row: CsvRow, file: string, out: ScratchBatch): void {
  const numbers = row.numbers;
  const { values, valueAt } = out;
  for (let c = 0; c < scans.length; c++) {
    const value = numbers[c] as number;
    if (Number.isNaN(value)) {
      scanCell(scans[c] as ColumnScan, row, c, file, out);
      continue;
    }
    countNumber(scans[c] as ColumnScan, value);
    values[valueAt + c] = value;
    // A batch starts zeroed, and zero is cellNumber: a number's kind needs no store.
  }
}

/**
 * Reads cell `c` of the row, one the parser did not read as a plain decimal, into the scratch record
 * being filled and counts it in its column. A text gets the id of its first appearance (its place in
 * `scan.texts`), or -1 past `maxDistinct`.
 */
function scanCell(scan: ColumnScan, row: CsvRow, c: number, file: string, out: ScratchBatch): void {
  const quoted = row.isQuoted[c] === 1;
  const start = row.starts[c] as number;
  const end = row.ends[c] as number;
  const hash = quoted ? 0 : hashBytes(row.bytes, start, end);
  if (!quoted) {
    const hit = scan.seen.get(hash);
    if (hit && sameBytes(hit.bytes, row.bytes, start, end)) {
      countSeen(scan, hit, out, c);
      return;
    }
  }
  const raw = row.text(c);
  if (isMissing(raw)) {
    scan.missing++;
    if (scan.firstMissingLine === 0) scan.firstMissingLine = row.line;
    out.bytes[out.kindAt + c] = cellMissing;
    remember(scan, row, c, hash, cellMissing, 0);
    return;
  }
  const trimmed = raw.trim();
  const value = Number(raw);
  if (!Number.isFinite(value) && trimmed.length <= 9 && nonFiniteLiteral.test(trimmed)) {
    throw invalid(
      `Line ${row.line} of ${file}, column "${scan.name}": "${trimmed}" is not a finite number. ` +
        'Replace it with a value, or leave the cell empty to mark it missing.',
    );
  }
  if (Number.isNaN(value)) {
    if (scan.firstTextLine === 0) {
      scan.firstTextLine = row.line;
      scan.firstText = trimmed;
    }
    let id = scan.tooMany ? -1 : (scan.texts.get(trimmed) ?? -1);
    if (id < 0 && !scan.tooMany) {
      id = scan.texts.size;
      scan.texts.set(trimmed, id);
      scan.textCounts.push(0);
      if (distinct(scan) > scan.maxDistinct) {
        scan.tooMany = true;
        id = -1;
      }
    }
    if (id >= 0) scan.textCounts[id] = (scan.textCounts[id] as number) + 1;
    out.values[out.valueAt + c] = id;
    out.bytes[out.kindAt + c] = cellText;
    remember(scan, row, c, hash, cellText, id);
    return;
  }
  if (!Number.isFinite(value)) {
    throw invalid(
      `Line ${row.line} of ${file}, column "${scan.name}": "${trimmed}" overflows a number. Rescale the column.`,
    );
  }
  countNumber(scan, value);
  out.values[out.valueAt + c] = value;
  out.bytes[out.kindAt + c] = cellNumber;
}

/** Notes what an unquoted non-number cell turned out to be, so that its repeats skip the string path. */
function remember(scan: ColumnScan, row: CsvRow, c: number, hash: number, kind: number, id: number): void {
  if (row.isQuoted[c] === 1 || scan.seen.size >= maxSeen || scan.seen.has(hash)) return;
  scan.seen.set(hash, { bytes: row.bytes.slice(row.starts[c] as number, row.ends[c] as number), kind, id });
}

/** A repeat of a cell `scanCell` has seen: counted as the first one was, without reading it again. */
function countSeen(scan: ColumnScan, hit: SeenCell, out: ScratchBatch, c: number): void {
  let id = hit.id;
  if (hit.kind === cellMissing) scan.missing++;
  else if (scan.tooMany)
    id = -1; // as the string path does once a column has too many texts
  else if (id >= 0) scan.textCounts[id] = (scan.textCounts[id] as number) + 1;
  out.values[out.valueAt + c] = id;
  out.bytes[out.kindAt + c] = hit.kind;
}

/** FNV-1a over a field's bytes. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash;
}

function sameBytes(known: Uint8Array, bytes: Uint8Array, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== bytes[start + i]) return false;
  return true;
}

/**
 * Scratch records: per row, a float64 per cell then a kind byte per cell, padded to 8 bytes. They are
 * filled in batches of many rows, so that a row costs no allocation and no copy.
 */
export class ScratchBatch {
  readonly recordBytes: number;
  private readonly kindsAt: number;
  bytes!: Uint8Array;
  values!: Float64Array;
  rows = 0;
  /** where the record being filled starts, in `values` and in `bytes` */
  valueAt = 0;
  kindAt = 0;

  constructor(
    readonly columns: number,
    private capacity: number,
  ) {
    this.kindsAt = 8 * columns;
    this.recordBytes = 8 * columns + Math.ceil(columns / 8) * 8;
    this.reset();
  }

  static rowsPer(recordBytes: number): number {
    return Math.max(1, Math.floor((1 << 20) / recordBytes));
  }

  /** Points at the next record; false when the batch is full. */
  next(): boolean {
    if (this.rows === this.capacity) return false;
    this.valueAt = (this.rows * this.recordBytes) / 8;
    this.kindAt = this.rows * this.recordBytes + this.kindsAt;
    this.rows++;
    return true;
  }

  /** Doubles the room for records, keeping those filled. */
  grow(): void {
    const filled = this.bytes.subarray(0, this.rows * this.recordBytes);
    this.capacity *= 2;
    this.view(new Uint8Array(this.capacity * this.recordBytes));
    this.bytes.set(filled);
  }

  /** The filled records; the batch starts afresh on new memory. */
  take(): Uint8Array {
    const filled = this.bytes.subarray(0, this.rows * this.recordBytes);
    this.reset();
    return filled;
  }

  /** Views the records in `bytes` (whole records), for reading them back. */
  view(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.values = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  }

  /** Points at record `index` of the viewed bytes. */
  seek(index: number): void {
    this.valueAt = (index * this.recordBytes) / 8;
    this.kindAt = index * this.recordBytes + this.kindsAt;
  }

  private reset(): void {
    this.view(new Uint8Array(this.capacity * this.recordBytes));
    this.rows = 0;
  }
}

/**
 * Reads a scratch file in buffers of whole records, each its own memory (it may go to another thread).
 */
export async function* scratchBuffers(path: string, recordBytes: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const size = 2 * ScratchBatch.rowsPer(recordBytes) * recordBytes;
    let position = 0;
    for (;;) {
      const buffer = new Uint8Array(size);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      position += filled;
      const whole = filled - (filled % recordBytes);
      if (whole > 0) yield buffer.subarray(0, whole);
      if (filled < buffer.length) return;
    }
  } finally {
    await handle.close();
  }
}

export interface ValueCodes {
  /** what each code stands for, sorted */
  labels: string[];
  /** how many cells hold each code */
  counts: number[];
  table: CodeTable;
}

/** A scratch cell's code, by its text's id or its number: plain data, so a reader thread can take it. */
export interface CodeTable {
  size: number;
  byText: Int32Array;
  byValue: Map<number, number>;
}

/** A scratch cell's code, or -1 (missing, or a text past the column's limit). */
export function codeOf(table: CodeTable, kind: number, value: number): number {
  if (kind === cellText) return value >= 0 ? (table.byText[value] ?? -1) : -1;
  if (kind === cellNumber) return table.byValue.get(value) ?? -1;
  return -1;
}

/**
 * Codes for a categorical column or a class target: its distinct texts and numbers as labels, sorted
 * (numerically when `numeric`, the labels then being the numbers as written by JavaScript).
 */
export function valueCodes(scan: ColumnScan, numeric: boolean): ValueCodes {
  const entries: Array<{ label: string; sortKey: number; count: number; text: number | null; value: number | null }> =
    [];
  for (const [text, id] of scan.texts) {
    entries.push({ label: text, sortKey: 0, count: scan.textCounts[id] as number, text: id, value: null });
  }
  for (const [value, count] of scan.values)
    entries.push({ label: String(value), sortKey: value, count, text: null, value });
  if (numeric) entries.sort((a, b) => a.sortKey - b.sortKey);
  else entries.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const byText = new Int32Array(scan.texts.size).fill(-1);
  const byValue = new Map<number, number>();
  entries.forEach((entry, index) => {
    if (entry.text !== null) byText[entry.text] = index;
    if (entry.value !== null) byValue.set(entry.value, index);
  });
  return {
    labels: entries.map((entry) => entry.label),
    counts: entries.map((entry) => entry.count),
    table: { size: entries.length, byText, byValue },
  };
}
