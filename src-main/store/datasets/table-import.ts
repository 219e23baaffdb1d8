import { IsoflopError, type TableColumn, type TableManifest, type TaskType } from '../../../src-shared/contract';
import { CsvParser, type CsvRow } from '../../../src-shared/data/csv';
import { SplitAssigner, type SplitName } from '../../../src-shared/data/splits';
import { type ImportTarget, SplitFiles } from './split-files';
import { type SourceFile, TextReader } from './text-source';

/**
 * CSV -> float32 rows. Pass 1 reads the header, checks every row, infers column types and learns
 * train-split statistics; pass 2 standardizes numbers, one-hot encodes categories and writes the rows.
 */

export const maxColumns = 10_000;
export const maxCategories = 100;
const maxClasses = 1000;
const previewRows = 10;
const missingMarkers = new Set(['', 'na', 'n/a', 'null', 'none', '?']);
const nonFiniteLiteral = /^[+-]?(nan|inf|infinity)$/i;

export interface TableImportOptions extends ImportTarget {
  file: SourceFile;
  target: string | undefined;
  task: TaskType | undefined;
}

export type TableImportResult = Omit<
  TableManifest,
  'formatVersion' | 'id' | 'name' | 'createdAt' | 'builtIn' | 'description' | 'kind' | 'irreducibleLoss'
>;

interface ColumnScan {
  name: string;
  numeric: number;
  missing: number;
  firstMissingLine: number;
  text: Map<string, number>;
  tooManyTexts: boolean;
  firstTextLine: number;
  firstText: string;
  allIntegers: boolean;
  // Welford's running mean and variance over the training split
  n: number;
  mean: number;
  m2: number;
}

function invalid(message: string): IsoflopError {
  return new IsoflopError('INVALID_INPUT', message);
}

function isMissing(value: string): boolean {
  // Most cells are numbers: decide without allocating for anything longer than the longest marker.
  if (value.length === 0) return true;
  if (value.length > 6) return false;
  return missingMarkers.has(value.trim().toLowerCase());
}

/** Every record of the file, handed to `each` synchronously chunk by chunk; `afterChunk` may await (writes). */
async function readRecords(
  file: SourceFile,
  onProgress: (done: number) => void,
  each: (row: CsvRow) => void,
  afterChunk: () => Promise<void> = async () => undefined,
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

function newScan(name: string): ColumnScan {
  return {
    name,
    numeric: 0,
    missing: 0,
    firstMissingLine: 0,
    text: new Map(),
    tooManyTexts: false,
    firstTextLine: 0,
    firstText: '',
    allIntegers: true,
    n: 0,
    mean: 0,
    m2: 0,
  };
}

/** Counts a number; the first values' text is kept too, to tell integer class labels from measurements. */
function learn(scan: ColumnScan, value: number, row: CsvRow, c: number, split: SplitName): void {
  scan.numeric++;
  if (!Number.isInteger(value)) scan.allIntegers = false;
  if (scan.numeric <= maxClasses + 1) {
    const key = row.text(c).trim();
    scan.text.set(key, (scan.text.get(key) ?? 0) + 1);
  }
  if (split === 'train') {
    scan.n++;
    const delta = value - scan.mean;
    scan.mean += delta / scan.n;
    scan.m2 += delta * (value - scan.mean);
  }
}

function scanValue(scan: ColumnScan, row: CsvRow, c: number, split: SplitName, file: string): void {
  const fast = row.number(c);
  if (!Number.isNaN(fast)) {
    learn(scan, fast, row, c, split);
    return;
  }
  const raw = row.text(c);
  if (isMissing(raw)) {
    scan.missing++;
    if (scan.firstMissingLine === 0) scan.firstMissingLine = row.line;
    return;
  }
  const trimmed = raw.trim();
  const value = Number(raw);
  if (Number.isNaN(value) || !Number.isFinite(value)) {
    if (trimmed.length <= 9 && nonFiniteLiteral.test(trimmed)) {
      throw invalid(
        `Line ${row.line} of ${file}, column "${scan.name}": "${trimmed}" is not a finite number. ` +
          'Replace it with a value, or leave the cell empty to mark it missing.',
      );
    }
  }
  if (Number.isNaN(value)) {
    if (scan.firstTextLine === 0) {
      scan.firstTextLine = row.line;
      scan.firstText = trimmed;
    }
    if (!scan.tooManyTexts) {
      scan.text.set(trimmed, (scan.text.get(trimmed) ?? 0) + 1);
      if (scan.text.size > maxClasses) scan.tooManyTexts = true;
    }
    return;
  }
  if (!Number.isFinite(value)) {
    throw invalid(
      `Line ${row.line} of ${file}, column "${scan.name}": "${trimmed}" overflows a number. Rescale the column.`,
    );
  }
  learn(scan, value, row, c, split);
}

/** A numeric cell's value, or null when it is missing. */
function cellNumber(row: CsvRow, c: number): number | null {
  const fast = row.number(c);
  if (!Number.isNaN(fast)) return fast;
  const raw = row.text(c);
  return isMissing(raw) ? null : Number(raw);
}

export async function importTable(options: TableImportOptions): Promise<TableImportResult> {
  const { file } = options;
  const name = file.displayName;
  if (file.size === 0) throw invalid(`${name} is empty. A CSV needs a header row and at least 10 data rows.`);

  // Pass 1: check and learn.
  let scans: ColumnScan[] = [];
  const preview: string[][] = [];
  const rows: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  let assigner = new SplitAssigner(options.fractions, options.seed);
  let header: string[] | null = null as string[] | null;
  const checkRecord = (row: CsvRow) => {
    if (!header) {
      const fields = row.fields();
      checkHeader(fields, name, options.target);
      header = fields.map((field) => field.trim());
      scans = header.map(newScan);
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
    for (let c = 0; c < header.length; c++) scanValue(scans[c] as ColumnScan, row, c, split, name);
  };
  await readRecords(file, (done) => options.onProgress('checking rows', done, 2 * file.size), checkRecord);
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
    targetIsText || (targetScan.allIntegers && targetScan.text.size <= 20) ? 'classification' : 'regression';
  const task = options.task ?? taskInferred;
  if (task === 'regression' && targetIsText) {
    throw invalid(
      `The target column "${targetName}" of ${name} holds text ("${targetScan.firstText}" on line ${targetScan.firstTextLine}), so it cannot be a regression target. Choose classification.`,
    );
  }
  if (task === 'classification' && (targetScan.tooManyTexts || targetScan.text.size > maxClasses)) {
    throw invalid(
      `The target column "${targetName}" of ${name} has more than ${maxClasses} classes. Choose regression.`,
    );
  }
  const classes =
    task === 'classification'
      ? [...targetScan.text.keys()].sort(targetIsText ? undefined : (a, b) => Number(a) - Number(b))
      : null;

  const columns: TableColumn[] = [];
  const skippedColumns: Array<{ name: string; reason: string }> = [];
  const columnIndexes: number[] = [];
  for (const [index, scan] of scans.entries()) {
    if (index === targetIndex) continue;
    if (scan.numeric === 0 && scan.firstTextLine === 0) {
      skippedColumns.push({ name: scan.name, reason: 'every value is missing' });
      continue;
    }
    if (scan.firstTextLine === 0) {
      const std = scan.n > 1 ? Math.sqrt(scan.m2 / (scan.n - 1)) : 0;
      columns.push({ name: scan.name, type: 'numeric', missing: scan.missing, mean: scan.mean, std, categories: null });
    } else if (!scan.tooManyTexts && scan.text.size <= maxCategories) {
      const categories = [...scan.text.keys()].sort();
      columns.push({ name: scan.name, type: 'categorical', missing: scan.missing, mean: null, std: null, categories });
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

  // Pass 2: encode and write.
  const width = features + 1;
  const row = new Float32Array(width);
  const rowBytes = new Uint8Array(row.buffer);
  const categoryIndex = columns.map((column) => new Map((column.categories ?? []).map((value, i) => [value, i])));
  const classIndex = new Map((classes ?? []).map((value, i) => [value, i]));
  const classCounts = new Map<string, number>();
  const means = columns.map((column) => column.mean ?? 0);
  const stds = columns.map((column) => (column.std && column.std > 0 ? column.std : 1));
  const files = new SplitFiles(options.dir, options.label, options.opener);
  await files.open();
  assigner = new SplitAssigner(options.fractions, options.seed);
  let seenHeader = false;
  const writeRecord = (record: CsvRow) => {
    if (!seenHeader) {
      seenHeader = true;
      return;
    }
    let at = 0;
    for (let k = 0; k < columns.length; k++) {
      const column = columns[k] as TableColumn;
      const c = columnIndexes[k] as number;
      if (column.type === 'numeric') {
        const value = cellNumber(record, c);
        row[at++] = value === null ? 0 : (value - (means[k] as number)) / (stds[k] as number);
      } else {
        const count = column.categories?.length ?? 0;
        row.fill(0, at, at + count);
        const raw = record.text(c);
        const hot = isMissing(raw) ? undefined : (categoryIndex[k] as Map<string, number>).get(raw.trim());
        if (hot !== undefined) row[at + hot] = 1;
        at += count;
      }
    }
    if (classes) {
      const target = record.text(targetIndex).trim();
      row[at] = classIndex.get(target) as number;
      classCounts.set(target, (classCounts.get(target) ?? 0) + 1);
    } else row[at] = cellNumber(record, targetIndex) as number;
    files.append(assigner.next(), rowBytes);
  };
  let sha256: string;
  try {
    sha256 = await readRecords(
      file,
      (done) => options.onProgress('writing rows', file.size + done, 2 * file.size),
      writeRecord,
      () => files.flush(),
    );
    await files.close();
  } catch (error) {
    await files.abandon();
    throw error;
  }

  const targetStd = targetScan.n > 1 ? Math.sqrt(targetScan.m2 / (targetScan.n - 1)) : null;
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
      mean: classes ? null : targetScan.mean,
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
      classBalance: classes ? Object.fromEntries(classes.map((c) => [c, classCounts.get(c) ?? 0])) : null,
    },
    preview: { header: columnNames, rows: preview },
  };
}
