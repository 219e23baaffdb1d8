import { type ApiError, IsoflopError } from '../../../../src-shared/contract/isoflop-error';
import { CsvParser, type CsvRow } from '../../../../src-shared/data/csv';
import { SplitAssigner, type SplitFractions, splitNames } from '../../../../src-shared/data/splits';
import {
  addTrainMoments,
  type ColumnScan,
  cellText,
  distinct,
  invalid,
  newScan,
  ScratchBatch,
  scanRow,
} from './table-cells';

/**
 * A CSV is read in pieces of whole records, several at once on a machine with the cores for it
 * (table-lanes.ts). A piece is read on its own: every record checked, dealt to a split (the piece's
 * own dealer, seeded from the import's seed and the piece's number), its cells parsed into its split's
 * scratch records, and what each column held counted, with the training rows' moments. The importer
 * merges the pieces in file order (`mergeColumn`, `mergeMoments`). Where pieces are cut depends only on
 * the file's bytes, so a table imports the same, bit for bit, however many threads read it.
 */

export interface PieceJob {
  bytes: Uint8Array;
  /** the line the piece's first byte is on, or 1 where that is not known yet (see `lines`) */
  firstLine: number;
  /** the file's last piece: it may end without a newline, or (an error) inside a quoted field */
  final: boolean;
  file: string;
  header: string[];
  /** per column, how many distinct values it may have before it counts as too many */
  maxDistinct: number[];
  /** how many of its first rows to hand back as text, for the preview */
  previewRows: number;
  /** the piece's place in the file (0 first), and how rows are dealt to splits */
  index: number;
  seed: number;
  fractions: SplitFractions;
}

/** What one column held in one piece. */
export interface ColumnPart {
  missing: number;
  firstMissingLine: number;
  values: Map<number, number>;
  /** distinct texts in order of first appearance (a scratch text cell holds its place here) */
  texts: string[];
  textCounts: number[];
  tooMany: boolean;
  firstTextLine: number;
  firstText: string;
  allIntegers: boolean;
}

/**
 * A piece read: its records, and the lines it spans (so that the reader learns where the next piece
 * starts only once this one is read, and need not count lines itself). A piece read from line 1 that
 * fails names lines counted from its start: read it again from its real first line for the message,
 * with the bytes it hands back.
 */
export type PieceResult =
  | {
      ok: true;
      lines: number;
      /** per split (as `splitNames`): how many records, and their scratch records */
      records: number[];
      scratch: Uint8Array[];
      columns: ColumnPart[];
      /** the training rows' moments, 4 per column, as `ColumnScan.moments` */
      moments: Float64Array;
      preview: string[][];
    }
  | { ok: false; error: ApiError; bytes: Uint8Array };

/** What a reader thread sends once its script has loaded (table-worker.ts). */
export const readyMessage = 'ready';

/** The largest piece: a record longer than this (an unclosed quote, most likely) is refused. */
export const maxPieceBytes = 64 << 20;

export function scanPiece(job: PieceJob): PieceResult {
  try {
    return readPiece(job);
  } catch (error) {
    if (error instanceof IsoflopError) return { ok: false, error: error.toJSON(), bytes: job.bytes };
    throw error;
  }
}

/**
 * The seed of piece `index`'s dealer. Piece 0 deals with the import's own seed, so that a table of one
 * piece (up to `pieceBytes`) splits as it always has.
 */
export function pieceSeed(seed: number, index: number): number {
  return index === 0 ? seed : (Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(index, 0x9e3779b9)) >>> 0;
}

function readPiece(job: PieceJob): PieceResult {
  const { bytes, firstLine, final, file, header, maxDistinct, previewRows } = job;
  const columns = header.length;
  const scans = header.map((name, c) => newScan(name, maxDistinct[c] as number));
  const dealer = new SplitAssigner(job.fractions, pieceSeed(job.seed, job.index));
  // Room for as many records as rows of 64 bytes would make, in each split's share; more is made as needed.
  const room = bytes.length / 64;
  const batches = splitNames.map(
    (split) => new ScratchBatch(columns, Math.max(16, Math.ceil(room * job.fractions[split]))),
  );
  const moments = new Float64Array(4 * columns);
  const preview: string[][] = [];
  const each = (row: CsvRow) => {
    if (row.count !== columns) {
      throw invalid(
        `Line ${row.line} of ${file} has ${row.count} fields; the header has ${columns}. ` +
          'Every row needs one value per column (leave a cell empty if the value is missing).',
      );
    }
    if (preview.length < previewRows) preview.push(row.fields());
    const split = dealer.nextIndex();
    const batch = batches[split] as ScratchBatch;
    if (!batch.next()) {
      batch.grow();
      batch.next();
    }
    scanRow(scans, row, file, batch);
    if (split === 0) addTrainMoments(moments, batch);
  };
  const parser = new CsvParser(file, firstLine);
  parser.push(bytes, each);
  if (final) parser.end(each);
  else if (parser.pending > 0) {
    throw invalid(
      `${file} has a record longer than ${maxPieceBytes >> 20} MB before line ${firstLine + countLines(bytes)}: ` +
        'most likely a quote (") that is never closed. Close it, or double the quotes inside quoted fields.',
    );
  }
  return {
    ok: true,
    lines: parser.nextLine - firstLine,
    records: batches.map((batch) => batch.rows),
    scratch: batches.map((batch) => batch.bytes.subarray(0, batch.rows * batch.recordBytes)),
    columns: scans.map(columnPart),
    moments,
    preview,
  };
}

/**
 * Adds a piece's moments (4 per column: count, shift, Σ(x − shift), Σ(x − shift)²) to the table's,
 * moving the piece's sums to the table's shift first.
 */
export function mergeMoments(into: Float64Array, part: Float64Array): void {
  for (let m = 0; m < into.length; m += 4) {
    const n = part[m] as number;
    if (n === 0) continue;
    if (into[m] === 0) {
      into.set(part.subarray(m, m + 4), m);
      continue;
    }
    const d = (part[m + 1] as number) - (into[m + 1] as number);
    const sum = part[m + 2] as number;
    into[m] = (into[m] as number) + n;
    into[m + 2] = (into[m + 2] as number) + sum + n * d;
    into[m + 3] = (into[m + 3] as number) + (part[m + 3] as number) + 2 * d * sum + n * d * d;
  }
}

function columnPart(scan: ColumnScan): ColumnPart {
  return {
    missing: scan.missing,
    firstMissingLine: scan.firstMissingLine,
    values: scan.values,
    texts: [...scan.texts.keys()],
    textCounts: scan.textCounts,
    tooMany: scan.tooMany,
    firstTextLine: scan.firstTextLine,
    firstText: scan.firstText,
    allIntegers: scan.allIntegers,
  };
}

export function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines++;
  return lines;
}

/**
 * Adds the next piece's part of a column (read from line 1; it starts on `firstLine`) to what the
 * pieces before it held, as if one scan had read them all. Returns what each of the piece's text ids becomes in the whole column (-1 once it has too
 * many texts to keep), or null when they stay as they are.
 */
export function mergeColumn(scan: ColumnScan, part: ColumnPart, firstLine: number): Int32Array | null {
  // The piece counted its lines from 1.
  const lineOffset = firstLine - 1;
  scan.missing += part.missing;
  if (scan.firstMissingLine === 0 && part.firstMissingLine > 0) {
    scan.firstMissingLine = part.firstMissingLine + lineOffset;
  }
  if (!part.allIntegers) scan.allIntegers = false;
  if (scan.firstTextLine === 0 && part.firstTextLine > 0) {
    scan.firstTextLine = part.firstTextLine + lineOffset;
    scan.firstText = part.firstText;
  }
  if (scan.tooMany) return null;
  if (part.tooMany) {
    scan.tooMany = true;
    return null;
  }
  for (const [value, count] of part.values) {
    scan.values.set(value, (scan.values.get(value) ?? 0) + count);
  }
  let remap: Int32Array | null = null;
  for (const [local, text] of part.texts.entries()) {
    let id = scan.texts.get(text);
    if (id === undefined) {
      id = scan.texts.size;
      scan.texts.set(text, id);
      scan.textCounts.push(0);
    }
    scan.textCounts[id] = (scan.textCounts[id] as number) + (part.textCounts[local] as number);
    if (id !== local) {
      remap ??= Int32Array.from(part.texts, (_, i) => i);
      remap[local] = id;
    }
  }
  if (distinct(scan) > scan.maxDistinct) scan.tooMany = true;
  return remap;
}

/** Rewrites column `c`'s text ids in a piece's scratch records to the whole column's ids. */
export function remapTexts(records: ScratchBatch, count: number, c: number, remap: Int32Array): void {
  for (let r = 0; r < count; r++) {
    records.seek(r);
    if (records.bytes[records.kindAt + c] !== cellText) continue;
    const local = records.values[records.valueAt + c] as number;
    if (local >= 0) records.values[records.valueAt + c] = remap[local] as number;
  }
}
