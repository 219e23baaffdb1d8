import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TableManifest } from '../../../../src-shared/contract';
import { Random } from '../../../../src-shared/random';
import { DatasetStore } from '../store';
import { csv, importFixture, tableRows } from './import-fixture';

const fixture = importFixture();
beforeEach(fixture.setUp);
afterEach(fixture.cleanup);

describe('CSV import', () => {
  it('standardizes numbers with train statistics, one-hot encodes categories, infers regression', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const manifest = (await fixture.importPath(
      store,
      fixture.input('table.csv', csv(tableRows(1000))),
    )) as TableManifest;
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
    const buffer = readFileSync(join(fixture.dataDir, 'datasets', manifest.id, 'train.bin'));
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
    const manifest = (await fixture.importPath(
      new DatasetStore(fixture.dataDir),
      fixture.input('classes.csv', csv(rows)),
      {
        target: 'colour',
      },
    )) as TableManifest;
    expect(manifest.task).toBe('classification');
    expect(manifest.target.classes).toEqual(['blue', 'green', 'red']);
    expect(manifest.stats.classBalance).toEqual({ blue: 33, green: 33, red: 34 });
  });

  it('handles quoted fields with commas, quotes and newlines, and counts missing cells', async () => {
    const rows = tableRows(30);
    const text = `${csv(rows).replace('red', '"red, dark"').replace('green', '"green ""lime"""').replace('blue', '"blue\nish"')}`;
    const withMissing = text.replace(/\n([-0-9.]+),/, '\n,');
    const manifest = (await fixture.importPath(
      new DatasetStore(fixture.dataDir),
      fixture.input('quoted.csv', withMissing),
    )) as TableManifest;
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
    const manifest = (await fixture.importPath(
      new DatasetStore(fixture.dataDir),
      fixture.input('big.csv', csv(rows)),
    )) as TableManifest;
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
      const bytes = readFileSync(join(fixture.dataDir, 'datasets', manifest.id, `${split}.bin`));
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
      const error = await fixture.importError(new DatasetStore(fixture.dataDir), fixture.input(name, content), extra);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(message);
    });
  }

  it('refuses 10^5 columns, naming the limit', async () => {
    const header = Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',');
    const error = await fixture.importError(
      new DatasetStore(fixture.dataDir),
      fixture.input('wide.csv', `${header}\n`),
    );
    expect(error.message).toContain('wide.csv has 100000 columns; IsoFLOP imports at most 10000');
  });

  it('lets the user override the inferred task, and refuses a text target for regression', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const rows = [['a', 'y'], ...Array.from({ length: 20 }, (_, i) => [String(i), String(i % 3)])];
    const inferred = (await fixture.importPath(store, fixture.input('small-int.csv', csv(rows)))) as TableManifest;
    expect(inferred.task).toBe('classification');
    const forced = (await fixture.importPath(store, fixture.input('small-int.csv', csv(rows)), {
      task: 'regression',
    })) as TableManifest;
    expect(forced.task).toBe('regression');
    expect(forced.taskInferred).toBe('classification');
    const text = [['a', 'y'], ...Array.from({ length: 20 }, (_, i) => [String(i), i % 2 ? 'yes' : 'no'])];
    const error = await fixture.importError(store, fixture.input('text-target.csv', csv(text)), { task: 'regression' });
    expect(error.message).toContain('cannot be a regression target');
  });
});
