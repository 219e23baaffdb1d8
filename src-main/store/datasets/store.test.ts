import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IsoflopError, TextManifest } from '../../../src-shared/contract';
import { BpeTokenizer } from '../../../src-shared/data/bpe';
import { corpus, csv, importFixture, tableRows } from './import/import-fixture';
import type { OpenForWrite } from './import/split-files';
import { DatasetStore } from './store';

const fixture = importFixture();
beforeEach(fixture.setUp);
afterEach(fixture.cleanup);

describe('text import', () => {
  it('tokenizes bytes, splits 90/5/5 in contiguous blocks, counts tokens and fingerprints the source', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const text = corpus(200_000);
    const path = fixture.input('notes.txt', text);
    const manifest = (await fixture.importPath(store, path)) as TextManifest;
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
    const folderPath = join(fixture.dataDir, 'datasets', manifest.id);
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
    const store = new DatasetStore(fixture.dataDir);
    const path = fixture.input('a.txt', corpus(50_000));
    const first = (await fixture.importPath(store, path)) as TextManifest;
    const again = (await fixture.importPath(store, path)) as TextManifest;
    const other = (await fixture.importPath(store, path, { seed: 99 })) as TextManifest;
    const val = (m: TextManifest) => readFileSync(join(fixture.dataDir, 'datasets', m.id, 'val.bin'));
    expect(val(again).equals(val(first))).toBe(true);
    expect(val(other).equals(val(first))).toBe(false);
  });

  it('trains a BPE vocabulary on the training split and stores tokens as uint16', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const text = corpus(100_000);
    const manifest = (await fixture.importPath(store, fixture.input('bpe.txt', text), {
      tokenizer: 'bpe',
      vocabSize: 300,
    })) as TextManifest;
    expect(manifest.tokenizer.type).toBe('bpe');
    expect(manifest.tokenizer.vocabSize).toBeLessThanOrEqual(300);
    expect(manifest.dtype).toBe('uint16');
    const dir = join(fixture.dataDir, 'datasets', manifest.id);
    const model = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const tokenizer = new BpeTokenizer(model);
    const buffer = readFileSync(join(dir, 'train.bin'));
    const ids = new Uint16Array(buffer.buffer, buffer.byteOffset, buffer.length / 2);
    expect(ids.length).toBe(manifest.splits.train.tokens);
    expect(ids.length).toBeLessThan(manifest.splits.train.bytes / 2);
    expect(text.startsWith(tokenizer.decode(ids.subarray(0, 50)))).toBe(true);
  });

  it('reads a folder of .txt files in name order and .jsonl documents', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const dir = join(fixture.inputs, 'books');
    mkdirSync(join(dir, 'part2'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), corpus(10_000, 1));
    writeFileSync(join(dir, 'part2', 'b.txt'), corpus(10_000, 2));
    writeFileSync(join(dir, 'ignored.bin'), Buffer.from([0, 1, 2]));
    const fromFolder = (await fixture.importPath(store, dir)) as TextManifest;
    expect(fromFolder.source.files).toBe(2);
    expect(fromFolder.stats.sample.startsWith(corpus(10_000, 1).slice(0, 100))).toBe(true);
    const lines = [corpus(3000, 3), corpus(3000, 4)].map((text) => JSON.stringify({ text, id: 1 }));
    const fromJsonl = (await fixture.importPath(
      store,
      fixture.input('docs.jsonl', `${lines.join('\n')}\n`),
    )) as TextManifest;
    expect(fromJsonl.stats.bytes).toBe(Buffer.byteLength(`${corpus(3000, 3)}\n\n${corpus(3000, 4)}`));
  });

  it('drops a BOM and turns CRLF into LF, and says so', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const text = corpus(20_000);
    const manifest = (await fixture.importPath(
      store,
      fixture.input('windows.txt', `\ufeff${text.replaceAll('\n', '\r\n')}`),
    )) as TextManifest;
    expect(manifest.stats.bomRemoved).toBe(true);
    expect(manifest.stats.crlfNormalized).toBe(text.split('\n').length - 1);
    expect(manifest.stats.tokens).toBe(Buffer.byteLength(text));
  });

  it('refuses an empty file', async () => {
    const error = await fixture.importError(new DatasetStore(fixture.dataDir), fixture.input('empty.txt', ''));
    expect(error.message).toContain('empty.txt is empty');
  });

  it('refuses a binary file named .txt, naming the byte', async () => {
    const bytes = Buffer.from(corpus(4000));
    bytes[1234] = 0;
    const error = await fixture.importError(new DatasetStore(fixture.dataDir), fixture.input('photo.txt', bytes));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/photo\.txt looks like a binary file.*byte 1234/);
  });

  it('refuses invalid UTF-8, naming the line and byte', async () => {
    const text = Buffer.from(corpus(8000));
    const bad = Buffer.concat([text.subarray(0, 5000), Buffer.from([0xc3, 0x28]), text.subarray(5000)]);
    const error = await fixture.importError(new DatasetStore(fixture.dataDir), fixture.input('latin1.txt', bad));
    const line = text.subarray(0, 5000).toString().split('\n').length;
    expect(error.message).toContain(`latin1.txt is not valid UTF-8 (line ${line}, byte 5000)`);
  });

  it('names the right line of invalid UTF-8 far into a large file', async () => {
    const text = Buffer.from(corpus(3_000_000));
    const at = 2_500_000 + text.subarray(2_500_000).indexOf(10) + 1;
    const bad = Buffer.concat([text.subarray(0, at), Buffer.from([0xff]), text.subarray(at)]);
    const error = await fixture.importError(new DatasetStore(fixture.dataDir), fixture.input('big.txt', bad));
    const line = text.subarray(0, at).toString().split('\n').length;
    expect(error.message).toContain(`big.txt is not valid UTF-8 (line ${line}, byte ${at})`);
  });

  it('refuses a JSONL line that is not JSON, or has no text field', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const good = JSON.stringify({ text: corpus(2000) });
    const broken = await fixture.importError(
      store,
      fixture.input('bad.jsonl', `${good}\n${good}\n{"text": "unterminated\n`),
    );
    expect(broken.message).toContain('Line 3 of bad.jsonl is not valid JSON');
    const noText = await fixture.importError(store, fixture.input('notext.jsonl', `${good}\n{"body": "x"}\n`));
    expect(noText.message).toContain('Line 2 of notext.jsonl has no "text" field');
  });

  it('refuses text too small to split', async () => {
    const error = await fixture.importError(
      new DatasetStore(fixture.dataDir),
      fixture.input('tiny.txt', 'hello world\n'),
    );
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
    const path = fixture.input('big.txt', corpus(400_000));
    const error = await fixture.importError(new DatasetStore(fixture.dataDir, fullDisk), path);
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.message).toContain('disk holding the data folder is full');
  });

  it('notices a file that is truncated, or one that disappears, while it is read', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const path = fixture.input('growing.txt', corpus(3_000_000));
    const truncated = await store
      .importFrom({ source: { path }, path, displayName: 'growing.txt' }, (_phase, done) => {
        if (done > 0 && done < 3_000_000) writeFileSync(path, 'cut');
      })
      .catch((e: unknown) => e);
    expect((truncated as IsoflopError).message).toContain('growing.txt changed while it was being imported');
    expect(readdirSync(join(fixture.dataDir, 'datasets'))).toEqual([]);

    const dir = join(fixture.inputs, 'shelf');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), corpus(20_000));
    writeFileSync(join(dir, 'b.txt'), corpus(20_000));
    const vanished = await store
      .importFrom({ source: { path: dir }, path: dir, displayName: 'shelf' }, () => {
        rmSync(join(dir, 'b.txt'), { force: true });
      })
      .catch((e: unknown) => e);
    expect((vanished as IsoflopError).message).toContain('shelf/b.txt disappeared while it was being imported');
    expect(readdirSync(join(fixture.dataDir, 'datasets'))).toEqual([]);

    const missing = await fixture.importError(store, join(fixture.inputs, 'nope.txt'));
    expect(missing.code).toBe('NOT_FOUND');
  });
});

describe('dataset store', () => {
  it('lists, renames and deletes datasets; refuses ids that could escape the folder', async () => {
    const store = new DatasetStore(fixture.dataDir);
    const a = await fixture.importPath(store, fixture.input('alpha.txt', corpus(20_000)));
    const b = await fixture.importPath(store, fixture.input('beta.csv', csv(tableRows(50))));
    expect((await store.list()).map((m) => m.id).sort()).toEqual([a.id, b.id].sort());
    const renamed = await store.rename(a.id, '  Alpha corpus ');
    expect(renamed.name).toBe('Alpha corpus');
    expect((await store.get(a.id)).name).toBe('Alpha corpus');
    await store.delete(b.id);
    expect((await store.list()).map((m) => m.id)).toEqual([a.id]);
    expect(readdirSync(join(fixture.dataDir, 'datasets'))).toEqual([a.id]);
    for (const id of ['../../etc', '..', 'a/b', 'UPPER', '']) {
      await expect(store.get(id)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(() => store.binaryPath(id, 'train')).toThrow(/is not a dataset id/);
    }
    await expect(store.get('missing-one')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
