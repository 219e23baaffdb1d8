import { writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { IsoflopError, type TextManifest } from '../../../src-shared/contract';
import { BpeTokenizer, BpeTrainer } from '../../../src-shared/data/bpe';
import { SplitAssigner, type SplitFractions, type SplitName, splitNames } from '../../../src-shared/data/splits';
import { type ImportTarget, SplitFiles } from './split-files';
import { BlockCutter, type SourceFile, type TextFormat, TextReader } from './text-source';

/** Text corpora -> tokens: validate, normalize, cut into blocks, deal blocks to splits, tokenize, count. */

if (endianness() !== 'LE') throw new Error('IsoFLOP stores uint16 tokens little-endian and needs a little-endian CPU');

export interface TextImportOptions extends ImportTarget {
  files: SourceFile[];
  format: TextFormat;
  tokenizer: 'byte' | 'bpe';
  vocabSize: number;
}

export type TextImportResult = Pick<
  TextManifest,
  'tokenizer' | 'dtype' | 'splits' | 'stats' | 'source' | 'seed' | 'splitFractions'
>;

/** Enough text for every split to get blocks: 20 blocks of at least 256 bytes. */
export const minTextBytes = 20 * 256;
const bpeSampleBytes = 8 << 20;
const sampleChars = 600;

export function blockBytesFor(totalBytes: number): number {
  return Math.min(1 << 20, Math.max(256, Math.floor(totalBytes / 200)));
}

function tally(counts: Uint32Array, ids: Uint8Array | Uint16Array): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    counts[id] = (counts[id] as number) + 1;
  }
}

async function* blocks(reader: TextReader, blockBytes: number, seed: number, fractions: SplitFractions) {
  const cutter = new BlockCutter(blockBytes);
  const assigner = new SplitAssigner(fractions, seed);
  for await (const chunk of reader.chunks()) {
    for (const block of cutter.push(chunk)) yield { block, split: assigner.next() };
  }
  for (const block of cutter.flush()) yield { block, split: assigner.next() };
}

export async function importText(options: TextImportOptions): Promise<TextImportResult> {
  const totalBytes = options.files.reduce((sum, file) => sum + file.size, 0);
  const names = options.files.map((file) => file.displayName).join(', ');
  if (totalBytes === 0) {
    throw new IsoflopError('INVALID_INPUT', `${names} is empty: there is no text to train on.`);
  }
  const blockBytes = blockBytesFor(totalBytes);
  const decoder = new TextDecoder();

  let tokenizer: BpeTokenizer | null = null;
  let trainedOnBytes: number | null = null;
  if (options.tokenizer === 'bpe') {
    // Pass 1: learn merges from the training split only, so validation text stays unseen.
    const trainer = new BpeTrainer();
    let sampled = 0;
    const reader = new TextReader(options.files, options.format, (done) =>
      options.onProgress(
        'learning the BPE vocabulary',
        Math.min(done, bpeSampleBytes),
        Math.min(totalBytes, bpeSampleBytes),
      ),
    );
    for await (const { block, split } of blocks(reader, blockBytes, options.seed, options.fractions)) {
      if (split !== 'train') continue;
      trainer.addText(decoder.decode(block));
      sampled += block.length;
      if (sampled >= bpeSampleBytes) break;
    }
    const model = trainer.train(options.vocabSize);
    tokenizer = new BpeTokenizer(model);
    trainedOnBytes = sampled;
    await writeFile(join(options.dir, 'tokenizer.json'), JSON.stringify({ type: 'bpe', ...model }));
  }

  const vocabSize = tokenizer?.vocabSize ?? 256;
  const dtype = vocabSize <= 256 ? 'uint8' : 'uint16';
  const counts = Object.fromEntries(splitNames.map((split) => [split, new Uint32Array(vocabSize)])) as Record<
    SplitName,
    Uint32Array
  >;
  const tokens: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  const textBytes: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  let sample = '';
  const files = new SplitFiles(options.dir, options.label, options.opener);
  const reader = new TextReader(options.files, options.format, (done) =>
    options.onProgress('tokenizing', done, totalBytes),
  );
  await files.open();
  try {
    for await (const { block, split } of blocks(reader, blockBytes, options.seed, options.fractions)) {
      if (sample.length === 0) sample = decoder.decode(block.subarray(0, sampleChars * 4)).slice(0, sampleChars);
      textBytes[split] += block.length;
      const count = counts[split];
      if (tokenizer) {
        const ids = Uint16Array.from(tokenizer.encode(decoder.decode(block)));
        tally(count, ids);
        tokens[split] += ids.length;
        await files.write(split, new Uint8Array(ids.buffer));
      } else {
        tally(count, block);
        tokens[split] += block.length;
        await files.write(split, block);
      }
    }
    await files.close();
  } catch (error) {
    await files.abandon();
    throw error;
  }
  if (textBytes.train + textBytes.val + textBytes.test < minTextBytes || tokens.val === 0 || tokens.test === 0) {
    throw new IsoflopError(
      'INVALID_INPUT',
      `${names} holds too little text to split into train, validation and test sets ` +
        `(${reader.stats.rawBytes} bytes; at least ${minTextBytes} are needed). Add more text.`,
    );
  }
  const unique = (c: Uint32Array) => c.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
  const all = new Uint32Array(vocabSize);
  for (const split of splitNames)
    for (let i = 0; i < vocabSize; i++) all[i] = (all[i] as number) + (counts[split][i] as number);
  const splitInfo = (split: SplitName) => ({
    file: SplitFiles.fileName(split),
    bytes: textBytes[split],
    tokens: tokens[split],
    uniqueTokens: unique(counts[split]),
  });
  return {
    tokenizer: {
      type: options.tokenizer,
      vocabSize,
      file: tokenizer ? 'tokenizer.json' : null,
      trainedOnBytes,
    },
    dtype,
    splits: { train: splitInfo('train'), val: splitInfo('val'), test: splitInfo('test') },
    stats: {
      bytes: textBytes.train + textBytes.val + textBytes.test,
      tokens: tokens.train + tokens.val + tokens.test,
      uniqueTokens: unique(all),
      blockBytes,
      crlfNormalized: reader.stats.crlfNormalized,
      bomRemoved: reader.stats.bomRemoved,
      sample,
    },
    source: {
      name: '',
      bytes: reader.stats.rawBytes,
      sha256: reader.stats.sha256,
      files: options.files.length,
    },
    seed: options.seed,
    splitFractions: options.fractions,
  };
}
