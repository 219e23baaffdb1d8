import { writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { IsoflopError, type TextManifest } from '../../../../src-shared/contract';
import { BpeTokenizer, BpeTrainer } from '../../../../src-shared/data/bpe';
import { SplitAssigner, type SplitFractions, type SplitName, splitNames } from '../../../../src-shared/data/splits';
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

/** Marks which token ids occur (BPE: uint16 ids). */
function markSeen(seen: Uint8Array, ids: Uint16Array): void {
  for (let i = 0; i < ids.length; i++) seen[ids[i] as number] = 1;
}

/**
 * Marks which pairs of adjacent bytes occur, reading four bytes at a time: two table stores per word is
 * the cheapest exact way found to learn which bytes occur, and it is most of a byte-level import's CPU time.
 * A lone byte b is marked as the pair (b, b). `bytesSeen` turns the pairs back into bytes.
 */
function markPairs(pairs: Uint8Array, bytes: Uint8Array): void {
  let i = 0;
  const head = Math.min(bytes.length, (4 - (bytes.byteOffset % 4)) % 4);
  for (; i < head; i++) pairs[(bytes[i] as number) * 257] = 1;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (bytes.length - i) >>> 2);
  for (let w = 0; w < words.length; w++) {
    const word = words[w] as number;
    pairs[word & 0xffff] = 1;
    pairs[word >>> 16] = 1;
  }
  for (i += words.length * 4; i < bytes.length; i++) pairs[(bytes[i] as number) * 257] = 1;
}

function bytesSeen(pairs: Uint8Array): Uint8Array {
  const seen = new Uint8Array(256);
  for (let pair = 0; pair < pairs.length; pair++) {
    if (pairs[pair] === 0) continue;
    seen[pair & 255] = 1;
    seen[pair >>> 8] = 1;
  }
  return seen;
}

function joinParts(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
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
      const text = joinParts(block);
      trainer.addText(decoder.decode(text));
      sampled += text.length;
      if (sampled >= bpeSampleBytes) break;
    }
    const model = trainer.train(options.vocabSize);
    tokenizer = new BpeTokenizer(model);
    trainedOnBytes = sampled;
    await writeFile(join(options.dir, 'tokenizer.json'), JSON.stringify({ type: 'bpe', ...model }));
  }

  const vocabSize = tokenizer?.vocabSize ?? 256;
  const dtype = vocabSize <= 256 ? 'uint8' : 'uint16';
  // Which ids occur in each split; byte-level imports mark pairs of bytes (see markPairs).
  const tableSize = tokenizer ? vocabSize : 1 << 16;
  const seen = Object.fromEntries(splitNames.map((split) => [split, new Uint8Array(tableSize)])) as Record<
    SplitName,
    Uint8Array
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
      if (sample.length === 0) {
        sample = decoder.decode(joinParts(block).subarray(0, sampleChars * 4)).slice(0, sampleChars);
      }
      const marks = seen[split];
      if (tokenizer) {
        const text = joinParts(block);
        const ids = Uint16Array.from(tokenizer.encode(decoder.decode(text)));
        markSeen(marks, ids);
        textBytes[split] += text.length;
        tokens[split] += ids.length;
        files.append(split, new Uint8Array(ids.buffer), true);
      } else {
        for (const part of block) {
          markPairs(marks, part);
          textBytes[split] += part.length;
          tokens[split] += part.length;
          files.append(split, part, true);
        }
      }
      await files.flush();
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
  const idsSeen = (split: SplitName) => (tokenizer ? seen[split] : bytesSeen(seen[split]));
  const unique = (marks: Uint8Array) => marks.reduce((n, v) => n + v, 0);
  const all = new Uint8Array(vocabSize);
  for (const split of splitNames) {
    const marks = idsSeen(split);
    for (let i = 0; i < vocabSize; i++) all[i] = (all[i] as number) | (marks[i] as number);
  }
  const splitInfo = (split: SplitName) => ({
    file: SplitFiles.fileName(split),
    bytes: textBytes[split],
    tokens: tokens[split],
    uniqueTokens: unique(idsSeen(split)),
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
