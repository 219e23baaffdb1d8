import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { IsoflopError } from '../../../../src-shared/contract';
import { firstInvalidUtf8, lineAt } from './utf8';

/**
 * Streams text files as validated, normalized UTF-8: BOM dropped, CRLF made LF, NUL bytes (binary
 * files) and invalid UTF-8 refused with the file, line and byte. Memory stays at one chunk.
 */

export interface SourceFile {
  path: string;
  /** How errors name it: relative to what the user chose. */
  displayName: string;
  size: number;
}

export type TextFormat = 'txt' | 'jsonl';

export interface TextReadStats {
  bomRemoved: boolean;
  crlfNormalized: number;
  rawBytes: number;
  sha256: string;
}

const chunkBytes = 1 << 20;
const encoder = new TextEncoder();

function invalid(message: string): IsoflopError {
  return new IsoflopError('INVALID_INPUT', message);
}

/** Length of the prefix that ends on a whole UTF-8 sequence; the rest waits for the next chunk. */
function completePrefix(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back] as number;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    if (b < 0x80) return bytes.length;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

function countByte(bytes: Uint8Array, value: number): number {
  let count = 0;
  let at = bytes.indexOf(value);
  while (at >= 0) {
    count++;
    at = bytes.indexOf(value, at + 1);
  }
  return count;
}

/** Drops each CR that precedes an LF. `pendingCr`: the previous chunk ended in CR. */
function dropCrBeforeLf(bytes: Uint8Array): { out: Uint8Array; dropped: number } {
  let at = bytes.indexOf(13);
  if (at < 0) return { out: bytes, dropped: 0 };
  const out = new Uint8Array(bytes.length);
  let written = 0;
  let from = 0;
  let dropped = 0;
  while (at >= 0) {
    if (bytes[at + 1] === 10) {
      out.set(bytes.subarray(from, at), written);
      written += at - from;
      from = at + 1;
      dropped++;
    }
    at = bytes.indexOf(13, at + 1);
  }
  out.set(bytes.subarray(from), written);
  written += bytes.length - from;
  return { out: out.subarray(0, written), dropped };
}

async function* readChunks(file: SourceFile, onRaw: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
  let read = 0;
  try {
    for await (const chunk of createReadStream(file.path, { highWaterMark: chunkBytes })) {
      const buffer = chunk as Buffer;
      read += buffer.length;
      onRaw(buffer);
      yield buffer;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalid(`${file.displayName} disappeared while it was being imported.`);
    throw invalid(`Could not read ${file.displayName}: ${(error as Error).message}`);
  }
  if (read !== file.size) {
    throw invalid(
      `${file.displayName} changed while it was being imported (it had ${file.size} bytes, ${read} were read). ` +
        'Import it again once it is complete.',
    );
  }
}

export class TextReader {
  readonly stats: TextReadStats = { bomRemoved: false, crlfNormalized: 0, rawBytes: 0, sha256: '' };
  private readonly hash = createHash('sha256');

  constructor(
    private readonly files: SourceFile[],
    private readonly format: TextFormat,
    private readonly onProgress: (rawBytes: number) => void = () => undefined,
  ) {}

  private onRaw = (chunk: Buffer) => {
    this.hash.update(chunk);
    this.stats.rawBytes += chunk.length;
    this.onProgress(this.stats.rawBytes);
  };

  /** Normalized UTF-8 text, chunk by chunk; files are joined by a newline. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    for (const [index, file] of this.files.entries()) {
      if (index > 0) yield Uint8Array.of(10);
      if (this.format === 'jsonl') yield* this.jsonlFile(file);
      else yield* this.textFile(file);
    }
    this.stats.sha256 = this.hash.digest('hex');
  }

  /** Validates and normalizes one file's bytes; yields whole UTF-8 sequences only. */
  private async *validated(file: SourceFile): AsyncGenerator<Uint8Array> {
    let carry: Uint8Array = new Uint8Array(0);
    let offset = 0;
    let first = true;
    for await (const raw of readChunks(file, this.onRaw)) {
      let bytes: Uint8Array = raw;
      if (carry.length > 0) {
        const joined = new Uint8Array(carry.length + raw.length);
        joined.set(carry);
        joined.set(raw, carry.length);
        bytes = joined;
      }
      if (first) {
        first = false;
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
          bytes = bytes.subarray(3);
          offset += 3;
          this.stats.bomRemoved = true;
        }
      }
      const nul = bytes.indexOf(0);
      if (nul >= 0) {
        throw invalid(
          `${file.displayName} looks like a binary file, not text (it has a NUL byte at byte ${offset + nul}). ` +
            'Choose a UTF-8 .txt or .jsonl file; import tables as .csv.',
        );
      }
      const whole = completePrefix(bytes);
      const ready = bytes.subarray(0, whole);
      carry = bytes.slice(whole);
      if (!isUtf8(ready)) await this.failUtf8(file, ready, offset, false);
      offset += ready.length;
      yield ready;
    }
    if (carry.length > 0) await this.failUtf8(file, carry, offset, true);
  }

  /** Names the line and byte of the first invalid sequence; lines are counted only now, on the error path. */
  private async failUtf8(file: SourceFile, bytes: Uint8Array, offset: number, final: boolean): Promise<never> {
    const at = Math.max(0, firstInvalidUtf8(bytes, final));
    let lines = 0;
    if (offset > 0) {
      for await (const chunk of createReadStream(file.path, { end: offset - 1, highWaterMark: chunkBytes })) {
        lines += countByte(chunk as Buffer, 10);
      }
    }
    throw invalid(
      `${file.displayName} is not valid UTF-8 (line ${lineAt(bytes, at, lines)}, byte ${offset + at}). ` +
        'Re-save it as UTF-8 text and import it again.',
    );
  }

  private async *textFile(file: SourceFile): AsyncGenerator<Uint8Array> {
    let pendingCr = false;
    for await (const bytes of this.validated(file)) {
      let chunk = bytes;
      if (pendingCr) {
        // The previous chunk ended in CR: keep it unless this chunk starts with LF.
        if (chunk[0] !== 10) yield Uint8Array.of(13);
        else this.stats.crlfNormalized++;
        pendingCr = false;
      }
      if (chunk[chunk.length - 1] === 13) {
        pendingCr = true;
        chunk = chunk.subarray(0, chunk.length - 1);
      }
      const { out, dropped } = dropCrBeforeLf(chunk);
      this.stats.crlfNormalized += dropped;
      if (out.length > 0) yield out;
    }
    if (pendingCr) yield Uint8Array.of(13);
  }

  private async *jsonlFile(file: SourceFile): AsyncGenerator<Uint8Array> {
    const decoder = new TextDecoder('utf-8');
    let partial = '';
    let lineNumber = 0;
    let documents = 0;
    const parseLine = (line: string): Uint8Array | null => {
      lineNumber++;
      const trimmed = line.trim();
      if (trimmed.length === 0) return null;
      let record: unknown;
      try {
        record = JSON.parse(trimmed);
      } catch (error) {
        throw invalid(
          `Line ${lineNumber} of ${file.displayName} is not valid JSON (${(error as Error).message}). ` +
            'Each line of a .jsonl file must be one JSON object such as {"text": "..."}.',
        );
      }
      const text = (record as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') {
        throw invalid(
          `Line ${lineNumber} of ${file.displayName} has no "text" field holding a string. ` +
            'Each line must look like {"text": "..."}.',
        );
      }
      const normalized = text.includes('\r\n') ? text.replaceAll('\r\n', '\n') : text;
      this.stats.crlfNormalized += text.length - normalized.length;
      documents++;
      return encoder.encode(documents > 1 ? `\n\n${normalized}` : normalized);
    };
    for await (const bytes of this.validated(file)) {
      const lines = (partial + decoder.decode(bytes, { stream: true })).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const encoded = parseLine(line);
        if (encoded) yield encoded;
      }
    }
    const last = parseLine(partial + decoder.decode());
    if (last) yield last;
    if (documents === 0) throw invalid(`${file.displayName} holds no documents: every line is empty.`);
  }
}

/**
 * Cuts a text stream into blocks of about `blockBytes`, ending after a newline where one is near.
 * A block is the list of its pieces: views of the chunks it was given, never copies, so the caller
 * must not reuse a chunk after pushing it.
 */
export class BlockCutter {
  private parts: Uint8Array[] = [];
  private length = 0;

  constructor(private readonly blockBytes: number) {}

  *push(chunk: Uint8Array): Generator<Uint8Array[]> {
    if (chunk.length === 0) return;
    this.parts.push(chunk);
    this.length += chunk.length;
    while (this.length >= this.blockBytes) {
      const cut = this.cutPoint();
      if (cut < 0) return;
      yield this.take(cut);
    }
  }

  *flush(): Generator<Uint8Array[]> {
    if (this.length > 0) yield this.take(this.length);
  }

  /** Where the next block ends (just after a newline if one is within twice the size), or -1 to wait. */
  private cutPoint(): number {
    const limit = Math.min(this.length, 2 * this.blockBytes);
    let base = 0;
    for (const part of this.parts) {
      const from = Math.max(0, this.blockBytes - 1 - base);
      const to = Math.min(part.length, limit - base);
      if (from < to) {
        const at = part.subarray(from, to).indexOf(10);
        if (at >= 0) return base + from + at + 1;
      }
      base += part.length;
      if (base >= limit) break;
    }
    if (this.length < 2 * this.blockBytes) return -1;
    // No newline near: cut at twice the size, on a UTF-8 character boundary.
    let cut = limit;
    while (cut > 1 && (this.byteAt(cut) & 0xc0) === 0x80) cut--;
    return cut;
  }

  private byteAt(offset: number): number {
    let base = 0;
    for (const part of this.parts) {
      if (offset < base + part.length) return part[offset - base] as number;
      base += part.length;
    }
    return 0;
  }

  private take(bytes: number): Uint8Array[] {
    const block: Uint8Array[] = [];
    let left = bytes;
    while (left > 0) {
      const part = this.parts[0] as Uint8Array;
      if (part.length <= left) {
        block.push(part);
        this.parts.shift();
        left -= part.length;
      } else {
        block.push(part.subarray(0, left));
        this.parts[0] = part.subarray(left);
        left = 0;
      }
    }
    this.length -= bytes;
    return block;
  }
}
