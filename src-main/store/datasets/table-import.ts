import { IsoflopError, type TableColumn, type TableManifest, type TaskType } from '../../../src-shared/contract';
import { CsvParser, type CsvRecord } from '../../../src-shared/data/csv';
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
  each: (record: CsvRecord) => void,
  afterChunk: () => Promise<void> = async () => undefined,
): Promise<string> {
  const reader = new TextReader([file], 'txt', onProgress);
  const parser = new CsvParser(file.displayName);
  const decoder = new TextDecoder();
  for await (const chunk of reader.chunks()) {
    parser.push(decoder.decode(chunk, { stream: true }), each);
    await afterChunk();
  }
  parser.push(decoder.decode(), each);
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

function scanValue(scan: ColumnScan, raw: string, line: number, split: SplitName, file: string): void {
  if (isMissing(raw)) {
    scan.missing++;
    if (scan.firstMissingLine === 0) scan.firstMissingLine = line;
    return;
  }
  const value = Number(raw);
  if (Number.isFinite(value)) {
    scan.numeric++;
    if (!Number.isInteger(value)) scan.allIntegers = false;
    if (scan.numeric <= maxClasses + 1) scan.text.set(raw.trim(), (scan.text.get(raw.trim()) ?? 0) + 1);
    if (split === 'train') {
      scan.n++;
      const delta = value - scan.mean;
      scan.mean += delta / scan.n;
      scan.m2 += delta * (value - scan.mean);
    }
    return;
  }
  const trimmed = raw.trim();
  if (nonFiniteLiteral.test(trimmed)) {
    throw invalid(
      `Line ${line} of ${file}, column "${scan.name}": "${trimmed}" is not a finite number. ` +
        'Replace it with a value, or leave the cell empty to mark it missing.',
    );
  }
  if (Number.isNaN(value)) {
    if (scan.firstTextLine === 0) {
      scan.firstTextLine = line;
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
      `Line ${line} of ${file}, column "${scan.name}": "${trimmed}" overflows a number. Rescale the column.`,
    );
  }
  scan.numeric++;
  if (!Number.isInteger(value)) scan.allIntegers = false;
  if (scan.numeric <= maxClasses + 1) scan.text.set(trimmed, (scan.text.get(trimmed) ?? 0) + 1);
  if (split === 'train') {
    scan.n++;
    const delta = value - scan.mean;
    scan.mean += delta / scan.n;
    scan.m2 += delta * (value - scan.mean);
  }
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
  const checkRecord = (record: CsvRecord) => {
    if (!header) {
      checkHeader(record.fields, name, options.target);
      header = record.fields.map((field) => field.trim());
      scans = header.map(newScan);
      return;
    }
    if (record.fields.length !== header.length) {
      throw invalid(
        `Line ${record.line} of ${name} has ${record.fields.length} fields; the header has ${header.length}. ` +
          'Every row needs one value per column (leave a cell empty if the value is missing).',
      );
    }
    if (preview.length < previewRows) preview.push(record.fields);
    const split = assigner.next();
    rows[split]++;
    for (let c = 0; c < header.length; c++) {
      scanValue(scans[c] as ColumnScan, record.fields[c] as string, record.line, split, name);
    }
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
  const files = new SplitFiles(options.dir, options.label, options.opener);
  await files.open();
  assigner = new SplitAssigner(options.fractions, options.seed);
  let seenHeader = false;
  const writeRecord = (record: CsvRecord) => {
    if (!seenHeader) {
      seenHeader = true;
      return;
    }
    let at = 0;
    for (let k = 0; k < columns.length; k++) {
      const column = columns[k] as TableColumn;
      const raw = record.fields[columnIndexes[k] as number] as string;
      if (column.type === 'numeric') {
        const std = column.std && column.std > 0 ? column.std : 1;
        row[at++] = isMissing(raw) ? 0 : (Number(raw) - (column.mean ?? 0)) / std;
      } else {
        const count = column.categories?.length ?? 0;
        row.fill(0, at, at + count);
        const hot = isMissing(raw) ? undefined : (categoryIndex[k] as Map<string, number>).get(raw.trim());
        if (hot !== undefined) row[at + hot] = 1;
        at += count;
      }
    }
    const target = (record.fields[targetIndex] as string).trim();
    row[at] = classes ? (classIndex.get(target) as number) : Number(target);
    if (classes) classCounts.set(target, (classCounts.get(target) ?? 0) + 1);
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
