import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IsoflopError } from '../../../../src-shared/contract';
import { Random } from '../../../../src-shared/random';
import { tempFolder } from '../../../testing';
import { ensureDataDir } from '../../data-dir';
import type { DatasetStore } from '../store';

/**
 * For import tests: a fresh data folder and a folder of input files per test (`setUp` / `cleanup`), and
 * an `importError` that checks a failed import left the data folder exactly as it was.
 */
export function importFixture() {
  let folder: ReturnType<typeof tempFolder> | null = null;
  let dataDir = '';
  let inputs = '';
  const listing = (): string[] => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? [`${entry.name}/`, ...walk(join(dir, entry.name)).map((p) => `${entry.name}/${p}`)]
          : [entry.name],
      );
    return walk(dataDir).sort();
  };
  return {
    setUp() {
      folder = tempFolder();
      dataDir = ensureDataDir(join(folder.dir, 'data'));
      inputs = join(folder.dir, 'inputs');
      mkdirSync(inputs);
    },
    cleanup() {
      folder?.cleanup();
    },
    get dataDir() {
      return dataDir;
    },
    /** where `input` writes the files to import */
    get inputs() {
      return inputs;
    },
    input(name: string, content: string | Uint8Array): string {
      const path = join(inputs, name);
      writeFileSync(path, content);
      return path;
    },
    importPath(store: DatasetStore, path: string, extra: object = {}) {
      const displayName = path.split('/').pop() as string;
      return store.importFrom({ source: { path }, path, displayName, ...extra });
    },
    async importError(store: DatasetStore, path: string, extra: object = {}): Promise<IsoflopError> {
      const before = listing();
      const displayName = path.split('/').pop() as string;
      const error = await store.importFrom({ source: { path }, path, displayName, ...extra }).then(
        () => {
          throw new Error('the import should have failed');
        },
        (e: unknown) => e,
      );
      if (!(error instanceof IsoflopError)) throw error;
      // Nothing is left behind: the data folder holds exactly what it held before.
      const after = listing();
      if (after.join('\n') !== before.join('\n')) {
        throw new Error(`the failed import changed the data folder: ${JSON.stringify({ before, after })}`);
      }
      return error;
    },
  };
}

/** Text in several words, one of them not ASCII. */
export function corpus(bytes: number, seed = 7): string {
  const random = new Random(seed);
  const words = ['the', 'model', 'loss', 'falls', 'as', 'compute', 'grows', 'and', 'data', 'scales', 'café'];
  let text = '';
  while (text.length < bytes) {
    text += `${Array.from({ length: 8 }, () => words[random.int(words.length)]).join(' ')}.\n`;
  }
  return text;
}

/** CSV text of rows of fields. */
export function csv(rows: string[][]): string {
  return `${rows.map((row) => row.join(',')).join('\n')}\n`;
}

/** A small regression table: two numbers, a colour, and y ≈ 2·x1. */
export function tableRows(n: number, seed = 3): string[][] {
  const random = new Random(seed);
  const rows = [['x1', 'x2', 'colour', 'y']];
  for (let i = 0; i < n; i++) {
    const x1 = random.normal();
    const colour = ['red', 'green', 'blue'][i % 3] as string;
    rows.push([x1.toFixed(4), String(i % 7), colour, (2 * x1 + random.normal() * 0.1).toFixed(4)]);
  }
  return rows;
}
