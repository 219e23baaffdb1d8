import { IsoflopError } from '../../../../src-shared/contract';
import { CsvParser, type CsvRow } from '../../../../src-shared/data/csv';
import { invalid } from './table-cells';
import type { TableLanes } from './table-lanes';
import { countLines, maxPieceBytes, type PieceJob, type PieceResult, scanPiece } from './table-pieces';
import { type SourceFile, TextReader } from './text-source';

/**
 * Pass 1's reading side of a CSV import (table-import.ts): the file read as a header and pieces of
 * whole records, cut where quotes allow, sent to the reader threads and merged back in file order.
 */

/** A piece ends at its last record end within this many bytes (4 MB pieces imported slower and peaked 20 MB higher). */
const pieceBytes = 2 << 20;

/** A Buffer over the same memory: Buffer's indexOf searches natively, a Uint8Array's byte by byte. */
function searchable(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The end of the first record in `bytes` (after its newline, outside quotes), or -1 if it goes on past them. */
function firstRecordEnd(within: Uint8Array): number {
  const bytes = searchable(within);
  let inQuotes = false;
  for (let at = 0; ; ) {
    const quote = bytes.indexOf(34, at);
    if (!inQuotes) {
      const newline = bytes.indexOf(10, at);
      if (newline >= 0 && (quote < 0 || newline < quote)) return newline + 1;
    }
    if (quote < 0) return -1;
    inQuotes = !inQuotes;
    at = quote + 1;
  }
}

/** The end of the last whole record in `bytes` (after its newline, outside quotes), or 0 if none ends in them. */
function lastRecordEnd(within: Uint8Array): number {
  const bytes = searchable(within);
  if (bytes.indexOf(34) < 0) return bytes.lastIndexOf(10) + 1;
  // Quotes pair up in a well-formed CSV, so a newline is outside quotes where an even number precede it.
  let end = 0;
  let inQuotes = false;
  for (let at = 0; ; ) {
    const quote = bytes.indexOf(34, at);
    const stop = quote < 0 ? bytes.length : quote;
    if (!inQuotes && stop > at) {
      const newline = bytes.lastIndexOf(10, stop - 1);
      if (newline >= at) end = newline + 1;
    }
    if (quote < 0) return end;
    inQuotes = !inQuotes;
    at = quote + 1;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0]?.byteOffset === 0 && parts[0].byteLength === parts[0].buffer.byteLength) {
    return parts[0];
  }
  // Every byte is written below: no need to zero it first. (A Uint8Array, not the Buffer: a Buffer's
  // slice is a view, and these bytes are cut and copied.)
  const length = parts.reduce((n, part) => n + part.length, 0);
  const joined = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

export type Piece = Extract<PieceResult, { ok: true }>;
/** What every piece of a file is read with. */
export type PieceFrame = Pick<PieceJob, 'file' | 'header' | 'maxDistinct' | 'seed' | 'fractions'>;

/**
 * Reads the file as a header and pieces of whole records. `onHeader` gets the first record's fields and
 * says how to read the pieces; `merge` gets each piece's result in file order, the first failed one
 * throwing its error. Returns the file's sha256.
 */
export async function readPieces(
  file: SourceFile,
  lanes: TableLanes,
  onProgress: (done: number) => void,
  onHeader: (fields: string[]) => PieceFrame,
  merge: (piece: Piece, firstLine: number) => Promise<void>,
  previewWanted: () => number,
): Promise<string> {
  const reader = new TextReader([file], 'txt', onProgress);
  let frame: PieceFrame | null = null;
  let line = 1;
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  const inHand: Array<{ result: Promise<PieceResult>; final: boolean; index: number }> = [];
  let pieces = 0;
  let merging = false;
  const settle = async ({ result, final, index }: (typeof inHand)[number]) => {
    merging = true;
    const piece = await result;
    if (!piece.ok) {
      // Read from line 1: read it again from where it starts, for a message that names the right line.
      const again = scanPiece({
        ...(frame as PieceFrame),
        bytes: piece.bytes,
        firstLine: line,
        final,
        previewRows: 0,
        index,
      });
      const error = again.ok ? piece.error : again.error;
      throw new IsoflopError(error.code, error.message);
    }
    await merge(piece, line);
    line += piece.lines;
    merging = false;
  };
  const send = async (bytes: Uint8Array, final: boolean) => {
    if (!frame) return;
    // Each piece is read from line 1: where it really starts is known once those before it are read.
    const index = pieces++;
    const job = { ...frame, bytes, firstLine: 1, final, previewRows: previewWanted(), index };
    inHand.push({ result: lanes.read(job), final, index });
    while (inHand.length >= lanes.capacity) await settle(inHand.shift() as (typeof inHand)[number]);
  };
  /** Reads records off the front of `bytes` until one is the header (blank lines come before it); returns
   * what follows it, or null while the header has not ended. */
  const takeHeader = (bytes: Uint8Array, final: boolean): Uint8Array | null => {
    let rest = bytes;
    while (!frame && rest.length > 0) {
      const end = firstRecordEnd(rest);
      if (end < 0 && !final) {
        if (rest.length > maxPieceBytes) {
          throw invalid(
            `The header row of ${file.displayName} is longer than ${maxPieceBytes >> 20} MB: most likely a quote (") that is never closed.`,
          );
        }
        return null;
      }
      const record = end < 0 ? rest : rest.subarray(0, end);
      const parser = new CsvParser(file.displayName, line);
      const take = (row: CsvRow) => {
        frame ??= onHeader(row.fields());
      };
      parser.push(record, take);
      parser.end(take);
      line += countLines(record);
      rest = end < 0 ? new Uint8Array(0) : rest.subarray(end);
    }
    return rest;
  };
  try {
    for await (const chunk of reader.chunks()) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (!frame) {
        const bytes = concat(held);
        const rest = takeHeader(bytes, false);
        if (!rest) {
          held = [bytes];
          continue;
        }
        held = rest.length > 0 ? [new Uint8Array(rest)] : [];
        heldBytes = rest.length;
      }
      if (heldBytes < pieceBytes) continue;
      // Pieces end at the last record end in each `pieceBytes`, whatever sizes the reads came in.
      const bytes = concat(held);
      const cuts: number[] = [];
      let start = 0;
      while (bytes.length - start >= pieceBytes) {
        let end = lastRecordEnd(bytes.subarray(start, start + pieceBytes));
        // A record longer than a piece: the piece ends where it does, once it has (see scanPiece).
        if (end === 0) end = firstRecordEnd(bytes.subarray(start));
        if (end < 0 && bytes.length - start < maxPieceBytes) break;
        start += end < 0 ? bytes.length - start : end;
        cuts.push(start);
      }
      if (cuts.length === 0) {
        held = [bytes];
        continue;
      }
      const rest = new Uint8Array(bytes.subarray(start));
      held = rest.length > 0 ? [rest] : [];
      heldBytes = rest.length;
      for (const [i, cut] of cuts.entries()) {
        const from = i === 0 ? 0 : (cuts[i - 1] as number);
        // The bytes go to another thread; only the first piece may take the buffer they were read into.
        await send(cuts.length === 1 ? bytes.subarray(0, cut) : new Uint8Array(bytes.subarray(from, cut)), false);
      }
    }
    if (!frame) takeHeader(concat(held), true);
    else if (heldBytes > 0) await send(concat(held), true);
    while (inHand.length > 0) await settle(inHand.shift() as (typeof inHand)[number]);
  } catch (error) {
    const pending = inHand.splice(0);
    for (const { result } of pending) result.catch(() => undefined);
    // A problem found while reading on (bad UTF-8, the file changing) comes after the records already
    // sent: the first of those that failed is the earlier problem in the file, and the one to report.
    if (!merging) {
      for (const entry of pending) {
        const piece = await entry.result.catch(() => null);
        if (!piece) break;
        if (!piece.ok) await settle(entry);
        line += piece.ok ? piece.lines : 0;
      }
    }
    throw error;
  }
  return reader.stats.sha256;
}
