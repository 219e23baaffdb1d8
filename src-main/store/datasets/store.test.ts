import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IsoflopError, type TableManifest, type TextManifest } from '../../../src-shared/contract';
import { BpeTokenizer } from '../../../src-shared/data/bpe';
import { Random } from '../../../src-shared/random';
import { tempFolder } from '../../testing';
import { ensureDataDir } from '../data-dir';
import type { OpenForWrite } from './split-files';
import { DatasetStore } from './store';

let folder: ReturnType<typeof tempFolder>;
let dataDir: string;
let inputs: string;

beforeEach(() => {
  folder = tempFolder();
  dataDir = ensureDataDir(join(folder.dir, 'data'));
  inputs = join(folder.dir, 'inputs');
  mkdirSync(inputs);
});
afterEach(() => folder.cleanup());

function corpus(bytes: number, seed = 7): string {
  const random = new Random(seed);
  const words = ['the', 'model', 'loss', 'falls', 'as', 'compute', 'grows', 'and', 'data', 'scales', 'café'];
  let text = '';
  while (text.length < bytes) {
    text += `${Array.from({ length: 8 }, () => words[random.int(words.length)]).join(' ')}.\n`;
  }
  return text;
}

function input(name: string, content: string | Uint8Array): string {
  const path = join(inputs, name);
  writeFileSync(path, content);
  return path;
}

function listing(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? [`${entry.name}/`, ...walk(join(dir, entry.name)).map((p) => `${entry.name}/${p}`)]
        : [entry.name],
    );
  return walk(dataDir).sort();
}

async function importError(store: DatasetStore, path: string, extra: object = {}): Promise<IsoflopError> {
  const before = listing();
  const displayName = path.split('/').pop() as string;
  const error = await store.importFrom({ source: { path }, path, displayName, ...extra }).then(
    () => {
      throw new Error('the import should have failed');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IsoflopError);
  // Nothing is left behind: the data folder holds exactly what it held before.
  expect(listing()).toEqual(before);
  return error as IsoflopError;
}

function importPath(store: DatasetStore, path: string, extra: object = {}) {
  const displayName = path.split('/').pop() as string;
  return store.importFrom({ source: { path }, path, displayName, ...extra });
}

describe('text import', () => {
  it('tokenizes bytes, splits 90/5/5 in contiguous blocks, counts tokens and fingerprints the source', async () => {
    const store = new DatasetStore(dataDir);
    const text = corpus(200_000);
    const path = input('notes.txt', text);
    const manifest = (await importPath(store, path)) as TextManifest;
    expect(manifest.kind).toBe('text');
    expect(manifest.name).toBe('notes');
    expect(manifest.id).toMatch(/^notes-[0-9a-f]{6}$/);
    expect(manifest.dtype).toBe('uint8');
    const bytes = Buffer.byteLength(text);
    expect(manifest.stats.tokens).toBe(bytes);
    const { train, val, test } = manifest.splits;
    expect(train.tokens + val.tokens + test.tokens).toBe(bytes);
    expect(val.tokens / bytes).toBeGreaterThan(0.03);
    expect(val.tokens / bytes).toBeLessThan(0.07);
    expect(manifest.source.sha256).toBe(
      (await import('node:crypto')).createHash('sha256').update(readFileSync(path)).digest('hex'),
    );
    const folderPath = join(dataDir, 'datasets', manifest.id);
    expect(statSync(join(folderPath, 'train.bin')).size).toBe(train.tokens);
    // Every split's bytes are whole lines of the original text, in order.
    const valText = readFileSync(join(folderPath, 'val.bin'), 'utf8');
    expect(valText.endsWith('\n')).toBe(true);
    expect(text.includes(valText.slice(0, 200))).toBe(true);
    expect(manifest.stats.uniqueTokens).toBe(new Set(Buffer.from(text)).size);
    for (const split of ['train', 'val', 'test'] as const) {
      const distinct = new Set(readFileSync(join(folderPath, `${split}.bin`))).size;
      expect(manifest.splits[split].uniqueTokens, split).toBe(distinct);
    }
    expect(manifest.stats.sample).toBe(text.slice(0, 600));
    expect(await store.get(manifest.id)).toEqual(manifest);
  });

  it('gives the same splits for the same seed, and other splits for another', async () => {
    const store = new DatasetStore(dataDir);
    const path = input('a.txt', corpus(50_000));
    const first = (await importPath(store, path)) as TextManifest;
    const again = (await importPath(store, path)) as TextManifest;
    const other = (await importPath(store, path, { seed: 99 })) as TextManifest;
    const val = (m: TextManifest) => readFileSync(join(dataDir, 'datasets', m.id, 'val.bin'));
    expect(val(again).equals(val(first))).toBe(true);
    expect(val(other).equals(val(first))).toBe(false);
  });

  it('trains a BPE vocabulary on the training split and stores tokens as uint16', async () => {
    const store = new DatasetStore(dataDir);
    const text = corpus(100_000);
    const manifest = (await importPath(store, input('bpe.txt', text), {
      tokenizer: 'bpe',
      vocabSize: 300,
    })) as TextManifest;
    expect(manifest.tokenizer.type).toBe('bpe');
    expect(manifest.tokenizer.vocabSize).toBeLessThanOrEqual(300);
    expect(manifest.dtype).toBe('uint16');
    const dir = join(dataDir, 'datasets', manifest.id);
    const model = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const tokenizer = new BpeTokenizer(model);
    const buffer = readFileSync(join(dir, 'train.bin'));
    const ids = new Uint16Array(buffer.buffer, buffer.byteOffset, buffer.length / 2);
    expect(ids.length).toBe(manifest.splits.train.tokens);
    expect(ids.length).toBeLessThan(manifest.splits.train.bytes / 2);
    expect(text.startsWith(tokenizer.decode(ids.subarray(0, 50)))).toBe(true);
  });

  it('reads a folder of .txt files in name order and .jsonl documents', async () => {
    const store = new DatasetStore(dataDir);
    const dir = join(inputs, 'books');
    mkdirSync(join(dir, 'part2'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), corpus(10_000, 1));
    writeFileSync(join(dir, 'part2', 'b.txt'), corpus(10_000, 2));
    writeFileSync(join(dir, 'ignored.bin'), Buffer.from([0, 1, 2]));
    const fromFolder = (await importPath(store, dir)) as TextManifest;
    expect(fromFolder.source.files).toBe(2);
    expect(fromFolder.stats.sample.startsWith(corpus(10_000, 1).slice(0, 100))).toBe(true);
    const lines = [corpus(3000, 3), corpus(3000, 4)].map((text) => JSON.stringify({ text, id: 1 }));
    const fromJsonl = (await importPath(store, input('docs.jsonl', `${lines.join('\n')}\n`))) as TextManifest;
    expect(fromJsonl.stats.bytes).toBe(Buffer.byteLength(`${corpus(3000, 3)}\n\n${corpus(3000, 4)}`));
  });

  it('drops a BOM and turns CRLF into LF, and says so', async () => {
    const store = new DatasetStore(dataDir);
    const text = corpus(20_000);
    const manifest = (await importPath(
      store,
      input('windows.txt', `\ufeff${text.replaceAll('\n', '\r\n')}`),
    )) as TextManifest;
    expect(manifest.stats.bomRemoved).toBe(true);
    expect(manifest.stats.crlfNormalized).toBe(text.split('\n').length - 1);
    expect(manifest.stats.tokens).toBe(Buffer.byteLength(text));
  });

  it('refuses an empty file', async () => {
    const error = await importError(new DatasetStore(dataDir), input('empty.txt', ''));
    expect(error.message).toContain('empty.txt is empty');
  });

  it('refuses a binary file named .txt, naming the byte', async () => {
    const bytes = Buffer.from(corpus(4000));
    bytes[1234] = 0;
    const error = await importError(new DatasetStore(dataDir), input('photo.txt', bytes));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/photo\.txt looks like a binary file.*byte 1234/);
  });

  it('refuses invalid UTF-8, naming the line and byte', async () => {
    const text = Buffer.from(corpus(8000));
    const bad = Buffer.concat([text.subarray(0, 5000), Buffer.from([0xc3, 0x28]), text.subarray(5000)]);
    const error = await importError(new DatasetStore(dataDir), input('latin1.txt', bad));
    const line = text.subarray(0, 5000).toString().split('\n').length;
    expect(error.message).toContain(`latin1.txt is not valid UTF-8 (line ${line}, byte 5000)`);
  });

  it('names the right line of invalid UTF-8 far into a large file', async () => {
    const text = Buffer.from(corpus(3_000_000));
    const at = 2_500_000 + text.subarray(2_500_000).indexOf(10) + 1;
    const bad = Buffer.concat([text.subarray(0, at), Buffer.from([0xff]), text.subarray(at)]);
    const error = await importError(new DatasetStore(dataDir), input('big.txt', bad));
    const line = text.subarray(0, at).toString().split('\n').length;
    expect(error.message).toContain(`big.txt is not valid UTF-8 (line ${line}, byte ${at})`);
  });

  it('refuses a JSONL line that is not JSON, or has no text field', async () => {
    const store = new DatasetStore(dataDir);
    const good = JSON.stringify({ text: corpus(2000) });
    const broken = await importError(store, input('bad.jsonl', `${good}\n${good}\n{"text": "unterminated\n`));
    expect(broken.message).toContain('Line 3 of bad.jsonl is not valid JSON');
    const noText = await importError(store, input('notext.jsonl', `${good}\n{"body": "x"}\n`));
    expect(noText.message).toContain('Line 2 of notext.jsonl has no "text" field');
  });

  it('refuses text too small to split', async () => {
    const error = await importError(new DatasetStore(dataDir), input('tiny.txt', 'hello world\n'));
    expect(error.message).toContain('too little text');
  });

  it('leaves nothing behind when the disk fills up mid-import', async () => {
    let written = 0;
    const fullDisk: OpenForWrite = async () => ({
      async write(bytes) {
        written += bytes.length;
        if (written > 60_000) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
      async close() {},
    });
    const path = input('big.txt', corpus(400_000));
    const error = await importError(new DatasetStore(dataDir, fullDisk), path);
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain('disk holding the data folder is full');
  });

  it('notices a file that is truncated, or one that disappears, while it is read', async () => {
    const store = new DatasetStore(dataDir);
    const path = input('growing.txt', corpus(3_000_000));
    const truncated = await store
      .importFrom({ source: { path }, path, displayName: 'growing.txt' }, (_phase, done) => {
        if (done > 0 && done < 3_000_000) writeFileSync(path, 'cut');
      })
      .catch((e: unknown) => e);
    expect((truncated as IsoflopError).message).toContain('growing.txt changed while it was being imported');
    expect(readdirSync(join(dataDir, 'datasets'))).toEqual([]);

    const dir = join(inputs, 'shelf');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), corpus(20_000));
    writeFileSync(join(dir, 'b.txt'), corpus(20_000));
    const vanished = await store
      .importFrom({ source: { path: dir }, path: dir, displayName: 'shelf' }, () => {
        rmSync(join(dir, 'b.txt'), { force: true });
      })
      .catch((e: unknown) => e);
    expect((vanished as IsoflopError).message).toContain('shelf/b.txt disappeared while it was being imported');
    expect(readdirSync(join(dataDir, 'datasets'))).toEqual([]);

    const missing = await importError(store, join(inputs, 'nope.txt'));
    expect(missing.code).toBe('NOT_FOUND');
  });
});

function csv(rows: string[][]): string {
  return `${rows.map((row) => row.join(',')).join('\n')}\n`;
}

function tableRows(n: number, seed = 3): string[][] {
  const random = new Random(seed);
  const rows = [['x1', 'x2', 'colour', 'y']];
  for (let i = 0; i < n; i++) {
    const x1 = random.normal();
    const colour = ['red', 'green', 'blue'][i % 3] as string;
    rows.push([x1.toFixed(4), String(i % 7), colour, (2 * x1 + random.normal() * 0.1).toFixed(4)]);
  }
  return rows;
}

describe('CSV import', () => {
  it('standardizes numbers with train statistics, one-hot encodes categories, infers regression', async () => {
    const store = new DatasetStore(dataDir);
    const manifest = (await importPath(store, input('table.csv', csv(tableRows(1000))))) as TableManifest;
    expect(manifest.kind).toBe('table');
    expect(manifest.task).toBe('regression');
    expect(manifest.target.name).toBe('y');
    expect(manifest.columns.map((c) => [c.name, c.type])).toEqual([
      ['x1', 'numeric'],
      ['x2', 'numeric'],
      ['colour', 'categorical'],
    ]);
    expect(manifest.features).toBe(5);
    const { train, val, test } = manifest.splits;
    expect([train.rows, val.rows, test.rows]).toEqual([800, 100, 100]);
    const buffer = readFileSync(join(dataDir, 'datasets', manifest.id, 'train.bin'));
    const values = new Float32Array(buffer.buffer, buffer.byteOffset, buffer.length / 4);
    expect(values.length).toBe(800 * 6);
    let sum = 0;
    let sumSq = 0;
    for (let r = 0; r < 800; r++) {
      const x = values[r * 6] as number;
      sum += x;
      sumSq += x * x;
      const oneHot = values.subarray(r * 6 + 2, r * 6 + 5);
      expect(oneHot.reduce((a, b) => a + b, 0)).toBe(1);
    }
    expect(Math.abs(sum / 800)).toBeLessThan(1e-4);
    expect(Math.abs(sumSq / 799 - 1)).toBeLessThan(1e-3);
    expect(manifest.preview.rows).toHaveLength(10);
  });

  it('infers classification from a text target and counts the classes', async () => {
    const rows = tableRows(100).map((row, i) => (i === 0 ? row : ([row[0], row[1], row[3], row[2]] as string[])));
    rows[0] = ['x1', 'x2', 'y', 'colour'];
    const manifest = (await importPath(new DatasetStore(dataDir), input('classes.csv', csv(rows)), {
      target: 'colour',
    })) as TableManifest;
    expect(manifest.task).toBe('classification');
    expect(manifest.target.classes).toEqual(['blue', 'green', 'red']);
    expect(manifest.stats.classBalance).toEqual({ blue: 33, green: 33, red: 34 });
  });

  it('handles quoted fields with commas, quotes and newlines, and counts missing cells', async () => {
    const rows = tableRows(30);
    const text = `${csv(rows).replace('red', '"red, dark"').replace('green', '"green ""lime"""').replace('blue', '"blue\nish"')}`;
    const withMissing = text.replace(/\n([-0-9.]+),/, '\n,');
    const manifest = (await importPath(new DatasetStore(dataDir), input('quoted.csv', withMissing))) as TableManifest;
    const colour = manifest.columns.find((c) => c.name === 'colour');
    expect(colour?.categories).toContain('red, dark');
    expect(colour?.categories).toContain('green "lime"');
    expect(colour?.categories).toContain('blue\nish');
    expect(manifest.stats.missingCells).toBe(1);
  });

  it('keeps every value through the scratch pass: many rows, a column mixing numbers and text, integer classes', async () => {
    const random = new Random(5);
    const rows = [['x', 'mixed', 'y']];
    for (let i = 0; i < 30_000; i++) {
      const x = random.normal() * 3 + 10;
      rows.push([x.toPrecision(7), ['1', '2', 'x', ''][i % 4] as string, String(i % 3)]);
    }
    const manifest = (await importPath(new DatasetStore(dataDir), input('big.csv', csv(rows)))) as TableManifest;
    expect(manifest.task).toBe('classification');
    expect(manifest.target.classes).toEqual(['0', '1', '2']);
    expect(manifest.stats.classBalance).toEqual({ '0': 10_000, '1': 10_000, '2': 10_000 });
    const mixed = manifest.columns.find((c) => c.name === 'mixed');
    expect(mixed?.type).toBe('categorical');
    expect(mixed?.categories).toEqual(['1', '2', 'x']);
    expect(mixed?.missing).toBe(7_500);
    const [xColumn] = manifest.columns;
    const decoded: number[] = [];
    const hot = [0, 0, 0, 0];
    const labels = [0, 0, 0];
    for (const split of ['train', 'val', 'test'] as const) {
      const bytes = readFileSync(join(dataDir, 'datasets', manifest.id, `${split}.bin`));
      const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      expect(values.length).toBe(manifest.splits[split].rows * 5);
      for (let r = 0; r < values.length / 5; r++) {
        decoded.push((values[r * 5] as number) * (xColumn?.std as number) + (xColumn?.mean as number));
        const oneHot = [1, 2, 3].findIndex((k) => values[r * 5 + k] === 1);
        hot[oneHot + 1] = (hot[oneHot + 1] as number) + 1;
        labels[values[r * 5 + 4] as number] = (labels[values[r * 5 + 4] as number] as number) + 1;
      }
    }
    expect(hot).toEqual([7_500, 7_500, 7_500, 7_500]);
    expect(labels).toEqual([10_000, 10_000, 10_000]);
    const original = rows.slice(1).map((row) => Number(row[0]));
    const sorted = (list: number[]) => [...list].sort((a, b) => a - b);
    const a = sorted(original);
    const b = sorted(decoded);
    expect(b.length).toBe(a.length);
    expect(Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))))).toBeLessThan(1e-4);
  });

  const badCases: Array<[string, string, RegExp, object?]> = [
    ['ragged.csv', 'a,b,y\n1,2,3\n4,5\n', /Line 3 of ragged\.csv has 2 fields; the header has 3/],
    ['noheader.csv', '1,2,3\n4,5,6\n', /first row of noheader\.csv looks like data/],
    ['dupes.csv', 'a,b,a,y\n1,2,3,4\n', /more than one column named "a"/],
    ['notarget.csv', 'a,b,y\n1,2,3\n', /no column named "price". Its columns are "a", "b", "y"/, { target: 'price' }],
    [
      'nan.csv',
      `a,b,y\n${'1,2,3\n'.repeat(12)}1,NaN,3\n`,
      /Line 14 of nan\.csv, column "b": "NaN" is not a finite number/,
    ],
    ['inf.csv', `a,b,y\n${'1,2,3\n'.repeat(12)}-Infinity,2,3\n`, /column "a": "-Infinity" is not a finite number/],
    [
      'emptytarget.csv',
      `a,b,y\n${'1,2,3\n'.repeat(12)}1,2,\n`,
      /target column "y" of emptytarget\.csv is empty on line 14/,
    ],
    ['onerow.csv', 'a,b,y\n1,2,3\n', /onerow\.csv has 1 data row; at least 10 are needed/],
    ['empty.csv', '', /empty\.csv is empty/],
    ['quote.csv', 'a,b,y\n1,"2,3\n', /ends inside a quoted field that starts on line 2/],
  ];
  for (const [name, content, message, extra] of badCases) {
    it(`refuses ${name} with a message naming what is wrong`, async () => {
      const error = await importError(new DatasetStore(dataDir), input(name, content), extra);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(message);
    });
  }

  it('refuses 10^5 columns, naming the limit', async () => {
    const header = Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',');
    const error = await importError(new DatasetStore(dataDir), input('wide.csv', `${header}\n`));
    expect(error.message).toContain('wide.csv has 100000 columns; IsoFLOP imports at most 10000');
  });

  it('lets the user override the inferred task, and refuses a text target for regression', async () => {
    const store = new DatasetStore(dataDir);
    const rows = [['a', 'y'], ...Array.from({ length: 20 }, (_, i) => [String(i), String(i % 3)])];
    const inferred = (await importPath(store, input('small-int.csv', csv(rows)))) as TableManifest;
    expect(inferred.task).toBe('classification');
    const forced = (await importPath(store, input('small-int.csv', csv(rows)), {
      task: 'regression',
    })) as TableManifest;
    expect(forced.task).toBe('regression');
    expect(forced.taskInferred).toBe('classification');
    const text = [['a', 'y'], ...Array.from({ length: 20 }, (_, i) => [String(i), i % 2 ? 'yes' : 'no'])];
    const error = await importError(store, input('text-target.csv', csv(text)), { task: 'regression' });
    expect(error.message).toContain('cannot be a regression target');
  });
});

describe('dataset store', () => {
  it('lists, renames and deletes datasets; refuses ids that could escape the folder', async () => {
    const store = new DatasetStore(dataDir);
    const a = await importPath(store, input('alpha.txt', corpus(20_000)));
    const b = await importPath(store, input('beta.csv', csv(tableRows(50))));
    expect((await store.list()).map((m) => m.id).sort()).toEqual([a.id, b.id].sort());
    const renamed = await store.rename(a.id, '  Alpha corpus ');
    expect(renamed.name).toBe('Alpha corpus');
    expect((await store.get(a.id)).name).toBe('Alpha corpus');
    await store.delete(b.id);
    expect((await store.list()).map((m) => m.id)).toEqual([a.id]);
    expect(readdirSync(join(dataDir, 'datasets'))).toEqual([a.id]);
    for (const id of ['../../etc', '..', 'a/b', 'UPPER', '']) {
      await expect(store.get(id)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(() => store.binaryPath(id, 'train')).toThrow(/is not a dataset id/);
    }
    await expect(store.get('missing-one')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
