import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IsoflopError } from '../../../../src-shared/contract';
import { splitNames, tableSplitDefaults } from '../../../../src-shared/data/splits';
import { Random } from '../../../../src-shared/random';
import { importFixture } from './import-fixture';
import { importTable, type TableImportResult } from './table-import';
import { TableLanes, tableWorkerScript } from './table-lanes';

const fixture = importFixture();
beforeEach(fixture.setUp);
afterEach(fixture.cleanup);

/**
 * About 11 MB (three pieces): numbers, a quoted text field with commas and newlines in it, missing
 * cells, and a colour column whose colours first appear in a different order in each piece, so that
 * merging the pieces must renumber them.
 */
function bigTable(): string {
  const random = new Random(11);
  const lines = ['x1,x2,note,colour,y'];
  const palettes = [
    ['red', 'green'],
    ['blue', 'amber', 'red'],
    ['teal', 'amber', 'blue', 'green'],
  ];
  for (let i = 0; i < 150_000; i++) {
    const palette = palettes[Math.min(2, Math.floor(i / 50_000))] as string[];
    const x1 = random.normal();
    const x2 = i % 97 === 0 ? '' : (random.normal() * 10).toFixed(3);
    const note = i % 13 === 0 ? `"a note, on\nline ${i % 7} ""quoted"""` : `n${i % 5}`;
    const colour = palette[random.int(palette.length)] as string;
    lines.push(`${x1.toFixed(5)},${x2},${note},${colour},${(2 * x1 + random.normal()).toFixed(4)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function importWith(path: string, lanes: number, name: string) {
  const dir = join(fixture.inputs, name);
  mkdirSync(dir);
  const result = await importTable({
    file: { path, displayName: 'big.csv', size: readFileSync(path).length },
    target: 'y',
    task: undefined,
    seed: 5,
    fractions: tableSplitDefaults,
    dir,
    label: 'big.csv',
    onProgress: () => undefined,
    lanes,
  });
  return { result, files: splitNames.map((split) => readFileSync(join(dir, `${split}.bin`))) };
}

describe('reading a CSV on several threads', () => {
  it('starts its reader threads from the bundled worker', async () => {
    expect(tableWorkerScript()).not.toBeNull();
    const lanes = await TableLanes.open(2);
    expect(lanes.threads).toBe(2);
    await lanes.close();
    expect((await TableLanes.open(0)).threads).toBe(0);
  });

  it('reads on the calling thread when a reader thread cannot start', async () => {
    const bundled = process.env.ISOFLOP_TABLE_WORKER;
    process.env.ISOFLOP_TABLE_WORKER = fixture.input('broken-worker.mjs', "throw new Error('no such module');\n");
    try {
      expect((await TableLanes.open(2)).threads).toBe(0);
      const path = fixture.input(
        'small.csv',
        `a,b,y\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 3},${2 * i}`).join('\n')}`,
      );
      const { result } = await importWith(path, 2, 'fallback');
      expect(result.stats.rows).toBe(40);
    } finally {
      process.env.ISOFLOP_TABLE_WORKER = bundled;
    }
  });

  it('imports the same table, bit for bit, on the calling thread and on 1, 2 or 3 reader threads', async () => {
    const path = fixture.input('big.csv', bigTable());
    const here = await importWith(path, 0, 'here');
    const manifest: TableImportResult = here.result;
    expect(manifest.stats.rows).toBe(150_000);
    expect(manifest.columns.map((c) => [c.name, c.type, c.missing])).toEqual([
      ['x1', 'numeric', 0],
      ['x2', 'numeric', Math.ceil(150_000 / 97)],
      ['note', 'categorical', 0],
      ['colour', 'categorical', 0],
    ]);
    expect(manifest.columns[3]?.categories).toEqual(['amber', 'blue', 'green', 'red', 'teal']);
    // Each piece (2 MB, 6 here) deals its rows in windows of 10: the shares are exact but for the last
    // window of each piece.
    expect(Math.abs(manifest.splits.train.rows - 120_000)).toBeLessThan(60);
    expect(Math.abs(manifest.splits.val.rows - 15_000)).toBeLessThan(60);
    for (const lanes of [1, 2, 3]) {
      const there = await importWith(path, lanes, `lanes-${lanes}`);
      expect(there.result, `${lanes} threads`).toEqual(manifest);
      for (const [i, bytes] of there.files.entries()) {
        expect(bytes.equals(here.files[i] as Buffer), `${splitNames[i]}.bin on ${lanes} threads`).toBe(true);
      }
    }
    // Each colour's one-hot column is set on as many rows as the file has of that colour: the pieces'
    // colour numbers were renumbered right when they were merged.
    const width = manifest.features + 1;
    const colours = manifest.columns[3]?.categories ?? [];
    const colourAt = 2 + (manifest.columns[2]?.categories?.length ?? 0);
    const counted = new Map<string, number>();
    for (const bytes of here.files) {
      const rows = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      for (let at = 0; at < rows.length; at += width) {
        const hot = rows.subarray(at + colourAt, at + colourAt + colours.length);
        expect(hot.reduce((a, b) => a + b, 0)).toBe(1);
        const colour = colours[hot.indexOf(1)] as string;
        counted.set(colour, (counted.get(colour) ?? 0) + 1);
      }
    }
    const inFile = new Map<string, number>();
    for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
      const colour = /,([a-z]+),[^,]+$/.exec(line)?.[1];
      if (colour) inFile.set(colour, (inFile.get(colour) ?? 0) + 1);
    }
    expect(counted).toEqual(inFile);
    // x1 standardized with the training rows' moments, merged from every piece's: mean 0, variance 1.
    const train = new Float32Array(
      here.files[0]?.buffer as ArrayBuffer,
      here.files[0]?.byteOffset,
      manifest.splits.train.rows * width,
    );
    let sum = 0;
    let squares = 0;
    for (let at = 0; at < train.length; at += width) {
      sum += train[at] as number;
      squares += (train[at] as number) ** 2;
    }
    const n = manifest.splits.train.rows;
    expect(Math.abs(sum / n)).toBeLessThan(1e-5);
    expect(Math.abs((squares - (sum * sum) / n) / (n - 1) - 1)).toBeLessThan(1e-5);
    expect(manifest.columns[2]?.categories).toContain('a note, on\nline 3 "quoted"');
  });

  it('names the right line of a bad row in a later piece, and the first of two problems', async () => {
    // Lines, not records: a quoted note spans two. A line with no quote in it is a whole record.
    const text = bigTable().split('\n');
    const wholeRecordFrom = (line: number) => text.findIndex((l, i) => i >= line && !l.includes('"'));
    const ragged = wholeRecordFrom(130_000);
    text[ragged] = `${text[ragged]},extra`;
    const later = wholeRecordFrom(160_000);
    text[later] = `${text[later]},1,2`;
    const path = fixture.input('ragged.csv', text.join('\n'));
    for (const lanes of [0, 2]) {
      const error = await importWith(path, lanes, `ragged-${lanes}`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IsoflopError);
      expect((error as IsoflopError).message).toBe(
        `Line ${ragged + 1} of big.csv has 6 fields; the header has 5. Every row needs one value per column (leave a cell empty if the value is missing).`,
      );
    }
  });

  it('takes a record longer than a piece, and names an unclosed quote that runs to the end', async () => {
    const lines = ['x,note,y'];
    for (let i = 0; i < 40_000; i++) {
      const note = i === 20_000 ? `"${'long, and\nlonger '.repeat(200_000)}"` : `note ${i}`;
      lines.push(`${i % 17},${note},${i % 5}`);
    }
    const path = fixture.input('long.csv', `${lines.join('\n')}\n`);
    const here = await importWith(path, 0, 'long-here');
    expect(here.result.stats.rows).toBe(40_000);
    expect(here.result.skippedColumns.map((column) => column.name)).toEqual(['note']);
    const there = await importWith(path, 2, 'long-there');
    expect(there.result).toEqual(here.result);
    for (const [i, bytes] of there.files.entries()) expect(bytes.equals(here.files[i] as Buffer)).toBe(true);

    lines[30_000] = '3,"an open quote,1';
    const open = fixture.input('open.csv', `${lines.join('\n')}\n`);
    const error = await importWith(open, 2, 'open').catch((e: unknown) => e);
    expect((error as IsoflopError).message).toBe(
      `big.csv ends inside a quoted field that starts on line ${30_000 + 1 + 200_000}. Close the quote.`,
    );
  });
});
