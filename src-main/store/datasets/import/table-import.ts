import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableColumn, TableManifest, TaskType } from '../../../../src-shared/contract';
import { SplitAssigner, type SplitName, splitNames } from '../../../../src-shared/data/splits';
import { type ImportTarget, openScratch, SplitFiles } from './split-files';
import {
  type ColumnScan,
  columnMean,
  distinct,
  invalid,
  maxCategories,
  maxClasses,
  newScan,
  ScratchBatch,
  sampleStd,
  scratchBuffers,
  type ValueCodes,
  valueCodes,
} from './table-cells';
import type { EncodePlan } from './table-encode';
import { TableLanes } from './table-lanes';
import { mergeColumn, mergeMoments, remapTexts } from './table-pieces';
import { type Piece, readPieces } from './table-read';
import type { SourceFile } from './text-source';

/**
 * CSV -> float32 rows, reading the CSV once. The first pass cuts the CSV into pieces of whole records
 * and reads them on several threads at once (table-pieces.ts, table-lanes.ts): each piece's records are
 * checked, dealt to splits and parsed into scratch records per split, and its columns counted; here the
 * pieces' columns and training moments are merged in file order and their scratch records written, a
 * file per split. The second pass reads those files back and, on the same threads, standardizes numbers
 * and one-hot encodes categories (table-encode.ts); here the rows are written to their split's file.
 */

export const maxColumns = 10_000;
const previewRows = 10;
export interface TableImportOptions extends ImportTarget {
  file: SourceFile;
  target: string | undefined;
  task: TaskType | undefined;
  /** threads to read the CSV on (default: one per core) */
  lanes?: number | undefined;
}

export type TableImportResult = Omit<
  TableManifest,
  'formatVersion' | 'id' | 'name' | 'createdAt' | 'builtIn' | 'description' | 'kind' | 'irreducibleLoss'
>;

function checkHeader(fields: string[], file: string, target: string | undefined): void {
  if (fields.length > maxColumns) {
    throw invalid(
      `${file} has ${fields.length} columns; IsoFLOP imports at most ${maxColumns}. Keep the columns you need and import again.`,
    );
  }
  if (fields.every((field) => field.trim() !== '' && Number.isFinite(Number(field)))) {
    throw invalid(
      `The first row of ${file} looks like data (every field is a number), not a header. Add a header row naming the columns.`,
    );
  }
  const empty = fields.findIndex((field) => field.trim() === '');
  if (empty >= 0) throw invalid(`Column ${empty + 1} of ${file} has no name in the header row. Name every column.`);
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const field of fields) (seen.has(field.trim()) ? duplicates : seen).add(field.trim());
  if (duplicates.size > 0) {
    throw invalid(
      `${file} has more than one column named ${[...duplicates].map((d) => `"${d}"`).join(', ')}. Rename them.`,
    );
  }
  if (fields.length < 2) {
    throw invalid(`${file} has a single column; a table needs at least one feature column and a target column.`);
  }
  if (target !== undefined && !seen.has(target)) {
    const list = fields
      .slice(0, 20)
      .map((f) => `"${f.trim()}"`)
      .join(', ');
    throw invalid(
      `${file} has no column named "${target}". Its columns are ${list}${fields.length > 20 ? ', ...' : ''}.`,
    );
  }
}

export async function importTable(options: TableImportOptions): Promise<TableImportResult> {
  const lanes = await TableLanes.open(options.lanes);
  try {
    return await importOn(lanes, options);
  } finally {
    await lanes.close();
  }
}

async function importOn(lanes: TableLanes, options: TableImportOptions): Promise<TableImportResult> {
  const { file } = options;
  const name = file.displayName;
  if (file.size === 0) throw invalid(`${name} is empty. A CSV needs a header row and at least 10 data rows.`);

  // Pass 1: check every row, learn the columns, keep the parsed cells.
  let scans: ColumnScan[] = [];
  const preview: string[][] = [];
  const rows: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  let header: string[] | null = null as string[] | null;
  const scratch = new SplitFiles(options.dir, options.label, options.opener ?? openScratch, 'cells');
  const scratchPath = (split: SplitName) => join(options.dir, `${split}.cells`);
  const onHeader = (fields: string[]) => {
    checkHeader(fields, name, options.target);
    const names = fields.map((field) => field.trim());
    header = names;
    const target = options.target ?? names[names.length - 1];
    const maxDistinct = names.map((column) => (column === target ? maxClasses : maxCategories));
    scans = names.map((column, c) => newScan(column, maxDistinct[c] as number));
    return { file: name, header: names, maxDistinct, seed: options.seed, fractions: options.fractions };
  };
  let moments = new Float64Array(0);
  const merge = async (piece: Piece, firstLine: number) => {
    for (const row of piece.preview) if (preview.length < previewRows) preview.push(row);
    const records = splitNames.map((_, i) => {
      const batch = new ScratchBatch(scans.length, 1);
      batch.view(piece.scratch[i] as Uint8Array);
      return batch;
    });
    for (const [c, part] of piece.columns.entries()) {
      const remap = mergeColumn(scans[c] as ColumnScan, part, firstLine);
      if (remap) for (const [i, batch] of records.entries()) remapTexts(batch, piece.records[i] as number, c, remap);
    }
    if (moments.length === 0) moments = new Float64Array(4 * scans.length);
    mergeMoments(moments, piece.moments);
    for (const [i, split] of splitNames.entries()) {
      rows[split] += piece.records[i] as number;
      scratch.append(split, piece.scratch[i] as Uint8Array, true);
    }
    await scratch.flush();
  };
  let sha256: string;
  await scratch.open();
  try {
    sha256 = await readPieces(
      file,
      lanes,
      (done) => options.onProgress('reading rows', done, file.size),
      onHeader,
      merge,
      () => previewRows - preview.length,
    );
    await scratch.close();
  } catch (error) {
    await scratch.abandon();
    throw error;
  }
  for (const [c, scan] of scans.entries()) scan.moments.set(moments.subarray(4 * c, 4 * c + 4));
  if (!header) throw invalid(`${name} holds no rows. A CSV needs a header row and at least 10 data rows.`);
  const columnNames: string[] = header;
  const totalRows = rows.train + rows.val + rows.test;
  const windowSize = new SplitAssigner(options.fractions, options.seed).windowSize;
  if (totalRows < windowSize || rows.val === 0 || rows.test === 0) {
    throw invalid(
      `${name} has ${totalRows} data row${totalRows === 1 ? '' : 's'}; at least ${windowSize} are needed to split it into train, validation and test sets.`,
    );
  }

  // Decide what each column is.
  const targetName = options.target ?? (columnNames[columnNames.length - 1] as string);
  const targetIndex = columnNames.indexOf(targetName);
  const targetScan = scans[targetIndex] as ColumnScan;
  if (targetScan.missing > 0) {
    throw invalid(
      `The target column "${targetName}" of ${name} is empty on line ${targetScan.firstMissingLine}. ` +
        'Every row needs a target value: fill it in or drop the row.',
    );
  }
  const targetIsText = targetScan.firstTextLine > 0;
  const taskInferred: TaskType =
    targetIsText || (targetScan.allIntegers && !targetScan.tooMany && targetScan.values.size <= 20)
      ? 'classification'
      : 'regression';
  const task = options.task ?? taskInferred;
  if (task === 'regression' && targetIsText) {
    throw invalid(
      `The target column "${targetName}" of ${name} holds text ("${targetScan.firstText}" on line ${targetScan.firstTextLine}), so it cannot be a regression target. Choose classification.`,
    );
  }
  if (task === 'classification' && targetScan.tooMany) {
    throw invalid(
      `The target column "${targetName}" of ${name} has more than ${maxClasses} classes. Choose regression.`,
    );
  }
  const targetCodes = task === 'classification' ? valueCodes(targetScan, !targetIsText) : null;
  const classes = targetCodes?.labels ?? null;

  const columns: TableColumn[] = [];
  const skippedColumns: Array<{ name: string; reason: string }> = [];
  const columnIndexes: number[] = [];
  const codes: Array<ValueCodes | null> = [];
  for (const [index, scan] of scans.entries()) {
    if (index === targetIndex) continue;
    if (scan.missing === totalRows) {
      skippedColumns.push({ name: scan.name, reason: 'every value is missing' });
      continue;
    }
    if (scan.firstTextLine === 0) {
      columns.push({
        name: scan.name,
        type: 'numeric',
        missing: scan.missing,
        mean: columnMean(scan),
        std: sampleStd(scan) ?? 0,
        categories: null,
      });
      codes.push(null);
    } else if (!scan.tooMany && distinct(scan) <= maxCategories) {
      const coded = valueCodes(scan, false);
      columns.push({
        name: scan.name,
        type: 'categorical',
        missing: scan.missing,
        mean: null,
        std: null,
        categories: coded.labels,
      });
      codes.push(coded);
    } else {
      skippedColumns.push({
        name: scan.name,
        reason: `more than ${maxCategories} distinct text values (first "${scan.firstText}" on line ${scan.firstTextLine}): too many to one-hot`,
      });
      continue;
    }
    columnIndexes.push(index);
  }
  const features = columns.reduce(
    (n, column) => n + (column.type === 'numeric' ? 1 : (column.categories?.length ?? 0)),
    0,
  );
  if (features === 0) {
    throw invalid(`${name} has no usable feature columns besides the target "${targetName}".`);
  }

  // Pass 2: encode the kept cells and write the rows, on the reader threads too.
  const plan: EncodePlan = {
    cells: columnNames.length,
    width: features + 1,
    features: columns.map((column, k) => ({
      cell: columnIndexes[k] as number,
      mean: column.mean ?? 0,
      std: column.std && column.std > 0 ? column.std : 1,
      codes: codes[k]?.table ?? null,
    })),
    target: { cell: targetIndex, codes: targetCodes?.table ?? null },
  };
  const rowBytes = plan.width * 4;
  const files = new SplitFiles(options.dir, options.label, options.opener);
  await files.open();
  const inHand: Array<{ split: SplitName; rows: Promise<Float32Array> }> = [];
  try {
    let done = 0;
    const write = async ({ split, rows }: (typeof inHand)[number]) => {
      const encoded = await rows;
      files.append(split, new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength), true);
      done += encoded.length / plan.width;
      // In bytes, as every import phase counts its progress (the CLI and the app show bytes and an ETA).
      options.onProgress('writing rows', done * rowBytes, totalRows * rowBytes);
      await files.flush();
    };
    const recordBytes = new ScratchBatch(columnNames.length, 1).recordBytes;
    for (const split of splitNames) {
      for await (const bytes of scratchBuffers(scratchPath(split), recordBytes)) {
        inHand.push({ split, rows: lanes.encode(plan, bytes) });
        while (inHand.length >= lanes.capacity) await write(inHand.shift() as (typeof inHand)[number]);
      }
      await rm(scratchPath(split), { force: true });
    }
    while (inHand.length > 0) await write(inHand.shift() as (typeof inHand)[number]);
    await files.close();
  } catch (error) {
    for (const { rows } of inHand.splice(0)) rows.catch(() => undefined);
    await files.abandon();
    throw error;
  }

  const targetStd = sampleStd(targetScan);
  const fileOf = (split: SplitName) => ({ file: SplitFiles.fileName(split), rows: rows[split] });
  return {
    source: { name: '', bytes: file.size, sha256, files: 1 },
    seed: options.seed,
    splitFractions: options.fractions,
    task,
    taskInferred,
    target: {
      name: targetName,
      classes,
      mean: classes ? null : columnMean(targetScan),
      std: classes ? null : targetStd,
    },
    features,
    columns,
    skippedColumns,
    splits: { train: fileOf('train'), val: fileOf('val'), test: fileOf('test') },
    stats: {
      rows: totalRows,
      columns: columnNames.length,
      missingCells: scans.reduce((n, scan) => n + scan.missing, 0),
      classBalance: targetCodes
        ? Object.fromEntries(targetCodes.labels.map((c, i) => [c, targetCodes.counts[i] ?? 0]))
        : null,
    },
    preview: { header: columnNames, rows: preview },
  };
}
