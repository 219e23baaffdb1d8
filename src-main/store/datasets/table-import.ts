import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableColumn, TableManifest, TaskType } from '../../../src-shared/contract';
import { CsvParser, type CsvRow } from '../../../src-shared/data/csv';
import { SplitAssigner, type SplitName, splitNames } from '../../../src-shared/data/splits';
import { type ImportTarget, openScratch, SplitFiles } from './split-files';
import {
  type ColumnScan,
  cellNumber,
  columnMean,
  distinct,
  invalid,
  maxCategories,
  maxClasses,
  newScan,
  ScratchBatch,
  sampleStd,
  scanRow,
  scratchBuffers,
  type ValueCodes,
  valueCodes,
} from './table-cells';
import { type SourceFile, TextReader } from './text-source';

/**
 * CSV -> float32 rows, reading the CSV once. The pass over the CSV checks every row, learns each
 * column's type and train-split statistics, and writes every cell, parsed, to a scratch file per split
 * (table-cells.ts). The second pass reads those scratch files, standardizes numbers, one-hot encodes
 * categories and writes the rows.
 */

export const maxColumns = 10_000;
const previewRows = 10;

export interface TableImportOptions extends ImportTarget {
  file: SourceFile;
  target: string | undefined;
  task: TaskType | undefined;
}

export type TableImportResult = Omit<
  TableManifest,
  'formatVersion' | 'id' | 'name' | 'createdAt' | 'builtIn' | 'description' | 'kind' | 'irreducibleLoss'
>;

/** Every record of the file, handed to `each` synchronously chunk by chunk; `afterChunk` may await (writes). */
async function readRecords(
  file: SourceFile,
  onProgress: (done: number) => void,
  each: (row: CsvRow) => void,
  afterChunk: () => Promise<void>,
): Promise<string> {
  const reader = new TextReader([file], 'txt', onProgress);
  const parser = new CsvParser(file.displayName);
  for await (const chunk of reader.chunks()) {
    parser.push(chunk, each);
    await afterChunk();
  }
  parser.end(each);
  await afterChunk();
  return reader.stats.sha256;
}

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
  const { file } = options;
  const name = file.displayName;
  if (file.size === 0) throw invalid(`${name} is empty. A CSV needs a header row and at least 10 data rows.`);

  // Pass 1: check every row, learn the columns, keep the parsed cells.
  let scans: ColumnScan[] = [];
  const preview: string[][] = [];
  const rows: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  const assigner = new SplitAssigner(options.fractions, options.seed);
  let header: string[] | null = null as string[] | null;
  let batches = {} as Record<SplitName, ScratchBatch>;
  const scratch = new SplitFiles(options.dir, options.label, options.opener ?? openScratch, 'cells');
  const scratchPath = (split: SplitName) => join(options.dir, `${split}.cells`);
  const checkRecord = (row: CsvRow) => {
    if (!header) {
      const fields = row.fields();
      checkHeader(fields, name, options.target);
      header = fields.map((field) => field.trim());
      const target = options.target ?? header[header.length - 1];
      scans = header.map((column) => newScan(column, column === target ? maxClasses : maxCategories));
      const columns = header.length;
      const rowsPer = ScratchBatch.rowsPer(new ScratchBatch(columns, 1).recordBytes);
      batches = {
        train: new ScratchBatch(columns, rowsPer),
        val: new ScratchBatch(columns, rowsPer),
        test: new ScratchBatch(columns, rowsPer),
      };
      return;
    }
    if (row.count !== header.length) {
      throw invalid(
        `Line ${row.line} of ${name} has ${row.count} fields; the header has ${header.length}. ` +
          'Every row needs one value per column (leave a cell empty if the value is missing).',
      );
    }
    if (preview.length < previewRows) preview.push(row.fields());
    const split = assigner.next();
    rows[split]++;
    const batch = batches[split];
    if (!batch.next()) {
      scratch.append(split, batch.take(), true);
      batch.next();
    }
    scanRow(scans, row, split, name, batch);
  };
  let sha256: string;
  await scratch.open();
  try {
    sha256 = await readRecords(
      file,
      (done) => options.onProgress('reading rows', done, file.size),
      checkRecord,
      () => scratch.flush(),
    );
    for (const split of splitNames) if (batches[split]) scratch.append(split, batches[split].take(), true);
    await scratch.close();
  } catch (error) {
    await scratch.abandon();
    throw error;
  }
  if (!header) throw invalid(`${name} holds no rows. A CSV needs a header row and at least 10 data rows.`);
  const columnNames: string[] = header;
  const totalRows = rows.train + rows.val + rows.test;
  if (totalRows < assigner.windowSize || rows.val === 0 || rows.test === 0) {
    throw invalid(
      `${name} has ${totalRows} data row${totalRows === 1 ? '' : 's'}; at least ${assigner.windowSize} are needed to split it into train, validation and test sets.`,
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

  // Pass 2: encode the kept cells and write the rows.
  const width = features + 1;
  const kept = columns.length;
  const means = Float64Array.from(columns, (column) => column.mean ?? 0);
  const stds = Float64Array.from(columns, (column) => (column.std && column.std > 0 ? column.std : 1));
  const files = new SplitFiles(options.dir, options.label, options.opener);
  await files.open();
  try {
    let done = 0;
    const cells = new ScratchBatch(columnNames.length, 1);
    for (const split of splitNames) {
      for await (const bytes of scratchBuffers(scratchPath(split), cells.recordBytes)) {
        cells.view(bytes);
        const count = bytes.length / cells.recordBytes;
        // Rows are encoded straight into the memory that will be written (zeros: the one-hot default).
        const out = new Float32Array(count * width);
        const { values, bytes: kinds } = cells;
        for (let r = 0; r < count; r++) {
          cells.seek(r);
          const { valueAt, kindAt } = cells;
          let at = r * width;
          for (let k = 0; k < kept; k++) {
            const c = columnIndexes[k] as number;
            const coded = codes[k];
            if (!coded) {
              if (kinds[kindAt + c] === cellNumber) {
                out[at] = ((values[valueAt + c] as number) - (means[k] as number)) / (stds[k] as number);
              }
              at++;
              continue;
            }
            const hot = coded.code(kinds[kindAt + c] as number, values[valueAt + c] as number);
            if (hot >= 0) out[at + hot] = 1;
            at += coded.labels.length;
          }
          const target = values[valueAt + targetIndex] as number;
          out[at] = targetCodes ? targetCodes.code(kinds[kindAt + targetIndex] as number, target) : target;
        }
        files.append(split, new Uint8Array(out.buffer), true);
        done += count;
        // In bytes, as every import phase counts its progress (the CLI and the app show bytes and an ETA).
        options.onProgress('writing rows', done * width * 4, totalRows * width * 4);
        await files.flush();
      }
      await rm(scratchPath(split), { force: true });
    }
    await files.close();
  } catch (error) {
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
