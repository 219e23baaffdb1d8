import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsoflopError } from '../../../src-shared/contract';
import { openDataFile } from '../../server/data-files';
import { tempFolder } from '../../testing';
import { ensureDataDir } from '../data-dir';
import { RunStore } from '../runs';
import { DatasetStore } from './store';

/**
 * Files that are not what they seem: each is refused with a message naming it and what it is, in well under
 * a second, and leaves nothing in the data folder. Prints what each got.
 */

const folder = tempFolder();
let store: DatasetStore;
let dataDir: string;
const outside = join(folder.dir, 'outside');
const seen: string[] = [];

beforeAll(() => {
  dataDir = ensureDataDir(join(folder.dir, 'data'));
  store = new DatasetStore(dataDir, undefined, 1);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'private words, not for any dataset\n'.repeat(100));
  writeFileSync(join(outside, 'train.bin'), 'private bytes');
});
afterAll(() => {
  console.log(`Bad files:\n${seen.map((line) => `  ${line}`).join('\n')}`);
  folder.cleanup();
});

async function refusal(path: string, displayName: string, kind?: 'text' | 'csv'): Promise<IsoflopError> {
  const started = performance.now();
  const error = await store.importFrom({ source: { path }, path, displayName, ...(kind ? { kind } : {}) }).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(IsoflopError);
  const typed = error as IsoflopError;
  seen.push(`${displayName}: ${typed.code} in ${(performance.now() - started).toFixed(0)} ms: ${typed.message}`);
  expect(readdirSync(store.root)).toEqual([]);
  return typed;
}

describe('bad files', () => {
  it('names a FIFO as a FIFO instead of waiting on it or calling it empty', async () => {
    const fifo = join(folder.dir, 'pipe.txt');
    execFileSync('mkfifo', [fifo]);
    const error = await refusal(fifo, 'pipe.txt');
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('pipe.txt is a FIFO (named pipe), not a regular file');
  });

  it('refuses a link in an imported folder that leads out of it', async () => {
    const corpus = join(folder.dir, 'corpus');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), 'an honest file of the corpus\n'.repeat(50));
    symlinkSync(join(outside, 'secret.txt'), join(corpus, 'b.txt'));
    const error = await refusal(corpus, 'corpus');
    expect(error.message).toContain(`${join('corpus', 'b.txt')} is a symbolic link`);
  });

  it('says what a folder holds when it holds no text files', async () => {
    const empty = join(folder.dir, 'empty');
    mkdirSync(empty);
    expect((await refusal(empty, 'empty')).message).toContain('holds no .txt, .md or .text files (it is empty)');
    const tables = join(folder.dir, 'tables');
    mkdirSync(tables);
    writeFileSync(join(tables, 'a.csv'), 'x,y\n1,2\n');
    expect((await refusal(tables, 'tables')).message).toContain('(it holds 1 file of other kinds)');
  });

  it('refuses a 10 MB CSV that is one line, naming the file', async () => {
    const line = join(folder.dir, 'one-line.csv');
    writeFileSync(line, `${'a,'.repeat(5 * 1024 * 1024)}`);
    const error = await refusal(line, 'one-line.csv', 'csv');
    expect(error.message).toContain('one-line.csv');
  });

  it('refuses JSONL nested 100,000 deep, naming the line', async () => {
    const nested = join(folder.dir, 'nested.jsonl');
    writeFileSync(nested, `{"text": "fine"}\n${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    const error = await refusal(nested, 'nested.jsonl');
    expect(error.message).toMatch(/Line 2 of nested\.jsonl/);
  });

  it('does not serve a link planted in the data folder, nor a FIFO', async () => {
    const runs = new RunStore(dataDir);
    mkdirSync(join(dataDir, 'datasets', 'planted-1'));
    symlinkSync(join(outside, 'secret.txt'), join(dataDir, 'datasets', 'planted-1', 'train.bin'));
    symlinkSync(outside, join(dataDir, 'datasets', 'planted-2'));
    mkdirSync(join(dataDir, 'runs', 'run-planted', 'checkpoints', '5'), { recursive: true });
    execFileSync('mkfifo', [join(dataDir, 'runs', 'run-planted', 'checkpoints', '5', 'weights.bin')]);
    // A link as the file, a link as the dataset's folder, a FIFO as the weights: each refused as such.
    for (const path of [
      '/data/datasets/planted-1/train.bin',
      '/data/datasets/planted-2/train.bin',
      '/data/runs/run-planted/checkpoints/5/weights.bin',
    ]) {
      const error = await openDataFile({ datasets: store, runs, dataDir }, path, undefined).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, path).toBeInstanceOf(IsoflopError);
      expect((error as IsoflopError).code, path).toBe('FORBIDDEN');
      seen.push(`${path}: ${(error as IsoflopError).code}: ${(error as IsoflopError).message}`);
    }
  });
});
