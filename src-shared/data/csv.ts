import { IsoflopError } from '../contract/isoflop-error';

/**
 * A streaming RFC 4180 parser over UTF-8 bytes: commas, double-quoted fields with "" escapes and
 * newlines inside, LF line ends (the text reader has already turned CRLF into LF). Blank lines are
 * skipped. Fields stay byte ranges until asked for: most cells of a table are numbers, so the scan
 * that finds where an unquoted field ends parses it as a decimal on the way (each byte is looked at
 * once), and `CsvRow.number` hands that value out without making a string.
 */

const comma = 44;
const newline = 10;
const quote = 34;
const utf8 = new TextDecoder();

/** One record, valid only during the callback that receives it (the parser reuses it). */
export class CsvRow {
  bytes: Uint8Array = new Uint8Array(0);
  /** number of fields */
  count = 0;
  /** 1-based line where the record starts */
  line = 1;
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  /** each unquoted field's value when it is a plain decimal (see `parseDecimal`), else NaN */
  numbers = new Float64Array(16);
  /** 1 for a quoted field, whose unescaped text is then in `quotedText` */
  isQuoted = new Uint8Array(16);
  quotedText: string[] = [];

  /** The field as text. */
  text(index: number): string {
    if (this.isQuoted[index] === 1) return this.quotedText[index] as string;
    return decodeField(this.bytes, this.starts[index] as number, this.ends[index] as number);
  }

  /** The field as a number if it is a plain decimal that converts exactly; NaN otherwise (then use `text`). */
  number(index: number): number {
    return this.numbers[index] as number;
  }

  /** Whether the field is empty (no bytes, not quoted). */
  empty(index: number): boolean {
    return this.isQuoted[index] === 0 && this.starts[index] === this.ends[index];
  }

  fields(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.text(i));
  }
}

export class CsvParser {
  private carry: Uint8Array | null = null;
  private line: number;
  private readonly row = new CsvRow();

  /** `firstLine`: the line the first byte pushed is on (a part of a file parsed on its own). */
  constructor(
    private readonly fileName: string,
    firstLine = 1,
  ) {
    this.line = firstLine;
  }

  /** The line the next record starts on. */
  get nextLine(): number {
    return this.line;
  }

  /** Bytes of an incomplete last record, waiting for more (or for `end`). */
  get pending(): number {
    return this.carry?.length ?? 0;
  }

  /** Parses the whole records in `chunk` (with what was left of the last one); the rest waits. */
  push(chunk: Uint8Array, emit: (row: CsvRow) => void): void {
    // A plain Uint8Array view even of a Node Buffer: one array type keeps the byte loops monomorphic.
    let bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    let carry = this.carry;
    this.carry = null;
    if (carry) {
      // The record cut at the last chunk's end usually ends at this chunk's first newline: join only that
      // much to the carry, not the whole chunk (a copy of every byte, 4% of a CSV import).
      const newline = bytes.indexOf(10);
      if (newline >= 0) {
        const head = join(carry, bytes.subarray(0, newline + 1));
        const used = this.parse(head, false, emit);
        bytes = bytes.subarray(newline + 1);
        // Still open (a quoted field with newlines in it): what is left of it goes with the whole chunk.
        carry = used < head.length ? head.subarray(used) : null;
      }
      if (carry) bytes = join(carry, bytes);
    }
    const used = this.parse(bytes, false, emit);
    if (used < bytes.length) this.carry = bytes.slice(used);
  }

  end(emit: (row: CsvRow) => void): void {
    const rest = this.carry;
    this.carry = null;
    if (rest) this.parse(rest, true, emit);
  }

  /** Emits each whole record; returns where the first incomplete one starts. */
  private parse(bytes: Uint8Array, final: boolean, emit: (row: CsvRow) => void): number {
    const row = this.row;
    row.bytes = bytes;
    const n = bytes.length;
    // The row's arrays in locals: the loop below stores to them for every field.
    let { starts, ends, numbers, isQuoted } = row;
    let pos = 0;
    while (pos < n) {
      const recordStart = pos;
      let lines = 0;
      let count = 0;
      for (;;) {
        if (count === starts.length) {
          this.grow();
          ({ starts, ends, numbers, isQuoted } = row);
        }
        if (pos < n && bytes[pos] === quote) {
          const field = this.quotedField(bytes, pos, final);
          if (!field) return recordStart;
          isQuoted[count] = 1;
          row.quotedText[count] = field.text;
          numbers[count] = Number.NaN;
          lines += field.lines;
          pos = field.end;
          if (pos < n && bytes[pos] !== comma && bytes[pos] !== newline) {
            throw this.invalid(
              `Line ${this.line + lines} of ${this.fileName} has text after the closing quote of a quoted field. ` +
                'End the field at its closing quote, or quote the whole field and double the quotes inside it.',
            );
          }
        } else {
          // The common case of `scanDecimal` inlined, `[+-]digits[.digits]` ending the field: this runs
          // once per cell of the file, and the call cost a quarter of the parse. Anything else (an
          // exponent, text) is scanned again from the start by `scanDecimal`.
          let end = pos;
          const sign = bytes[end];
          if (sign === 45 || sign === 43) end++;
          let mantissa = 0;
          const integerStart = end;
          for (; end < n; end++) {
            const d = (bytes[end] as number) - 48;
            if (d < 0 || d > 9) break;
            mantissa = mantissa * 10 + d;
          }
          let digits = end - integerStart;
          let scale = 0;
          if (end < n && bytes[end] === 46) {
            const fractionStart = ++end;
            for (; end < n; end++) {
              const d = (bytes[end] as number) - 48;
              if (d < 0 || d > 9) break;
              mantissa = mantissa * 10 + d;
            }
            scale = end - fractionStart;
            digits += scale;
          }
          let stop = end < n ? (bytes[end] as number) : comma;
          if ((stop === comma || stop === newline) && digits > 0) {
            const magnitude =
              mantissa < 9007199254740992 && scale <= 22 ? mantissa / (exactPowersOfTen[scale] as number) : Number.NaN;
            numbers[count] = sign === 45 ? -magnitude : magnitude;
          } else {
            end = scanDecimal(bytes, pos, n);
            stop = end < n ? (bytes[end] as number) : comma;
            numbers[count] = scanned;
          }
          if (stop !== comma && stop !== newline) {
            numbers[count] = Number.NaN;
            while (end < n) {
              const c = bytes[end] as number;
              if (c === comma || c === newline || c === quote) break;
              end++;
            }
          }
          if (end < n && bytes[end] === quote) {
            throw this.invalid(
              `Line ${this.line + lines} of ${this.fileName} has a quote (") inside an unquoted field. ` +
                'Quote the whole field and double the quotes inside it ("like ""this"").',
            );
          }
          starts[count] = pos;
          ends[count] = end;
          isQuoted[count] = 0;
          pos = end;
        }
        count++;
        if (pos >= n) {
          if (!final) return recordStart;
          break;
        }
        const c = bytes[pos++];
        if (c === newline) break;
      }
      row.count = count;
      row.line = this.line;
      this.line += lines + 1;
      if (!(count === 1 && (row.empty(0) || (row.isQuoted[0] === 1 && row.quotedText[0] === '')))) emit(row);
    }
    return n;
  }

  /** A quoted field from its opening quote: text, end (after the closing quote), newlines inside. */
  private quotedField(
    bytes: Uint8Array,
    open: number,
    final: boolean,
  ): { text: string; end: number; lines: number } | null {
    let text = '';
    let from = open + 1;
    for (;;) {
      const close = bytes.indexOf(quote, from);
      if (close < 0 || (close + 1 === bytes.length && !final)) {
        if (!final) return null;
        throw this.invalid(
          `${this.fileName} ends inside a quoted field that starts on line ${this.line}. Close the quote.`,
        );
      }
      text += utf8.decode(bytes.subarray(from, close));
      if (bytes[close + 1] === quote) {
        text += '"';
        from = close + 2;
        continue;
      }
      let lines = 0;
      for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines++;
      return { text, end: close + 1, lines };
    }
  }

  private grow(): void {
    const row = this.row;
    const doubled = <T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    const size = row.starts.length * 2;
    row.starts = doubled(row.starts, new Int32Array(size));
    row.ends = doubled(row.ends, new Int32Array(size));
    row.numbers = doubled(row.numbers, new Float64Array(size));
    row.isQuoted = doubled(row.isQuoted, new Uint8Array(size));
  }

  private invalid(message: string): IsoflopError {
    return new IsoflopError('INVALID_INPUT', message);
  }
}

/** Parses CSV text (a BOM and CRLF line ends allowed) into records of strings. */
export function parseCsvText(
  text: string,
  fileName: string,
  each: (fields: string[], line: number) => boolean | undefined,
): void {
  const parser = new CsvParser(fileName);
  let stop = false;
  const emit = (row: CsvRow) => {
    if (!stop) stop = each(row.fields(), row.line) === false;
  };
  parser.push(new TextEncoder().encode(text.replace(/^\ufeff/, '').replaceAll('\r\n', '\n')), emit);
  parser.end(emit);
}

/** The header row of the start of a CSV file; [] if it cannot be read there. */
export function csvHeader(text: string, fileName: string): string[] {
  let header: string[] = [];
  try {
    parseCsvText(text, fileName, (fields) => {
      header = fields.map((field) => field.trim());
      return false;
    });
  } catch {
    // A malformed line after the header does not matter here; the import reports it properly.
  }
  return header;
}

function join(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

function decodeField(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    // Short ASCII fields are most text cells; building them directly beats a decoder call.
    let text = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i] as number;
      if (c >= 0x80) return utf8.decode(bytes.subarray(start, end));
      text += String.fromCharCode(c);
    }
    return text;
  }
  return utf8.decode(bytes.subarray(start, end));
}

const exactPowersOfTen = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** The value `scanDecimal` read last (a module slot: returning a pair would allocate once per cell). */
let scanned = Number.NaN;

/**
 * Reads `[+-]digits[.digits][e[+-]digits]` from `start`, stopping at the first byte that cannot
 * continue it (or at `end`), and returns where it stopped. It leaves in `scanned` exactly what
 * `Number()` gives for the bytes read, or NaN when they are not of that form or need more than the
 * fast path: a mantissa below 2^53 and a decimal exponent within ±22, so that mantissa and power of
 * ten are exact and one IEEE operation rounds correctly (Clinger 1990). (While the digits' exact value
 * stays below 2^53 every step of `mantissa * 10 + d` is exact; once it passes 2^53 the rounded value
 * cannot fall back below it, so one test at the end decides.)
 */
function scanDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const sign = bytes[i];
  if (sign === 45 || sign === 43) i++;
  let mantissa = 0;
  const integerStart = i;
  for (; i < end; i++) {
    const d = (bytes[i] as number) - 48;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
  }
  let digits = i - integerStart;
  let exponent = 0;
  if (i < end && bytes[i] === 46) {
    const fractionStart = ++i;
    for (; i < end; i++) {
      const d = (bytes[i] as number) - 48;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
    }
    exponent = fractionStart - i;
    digits -= exponent;
  }
  scanned = Number.NaN;
  if (digits === 0) return i;
  if (i < end && ((bytes[i] as number) | 32) === 101) {
    i++;
    let negativeExponent = false;
    if (bytes[i] === 45) {
      negativeExponent = true;
      i++;
    } else if (bytes[i] === 43) i++;
    let value = 0;
    const first = i;
    for (; i < end && value < 1000; i++) {
      const d = (bytes[i] as number) - 48;
      if (d < 0 || d > 9) break;
      value = value * 10 + d;
    }
    if (i === first) return i;
    exponent += negativeExponent ? -value : value;
  }
  if (mantissa >= 9007199254740992 || exponent < -22 || exponent > 22) return i;
  const magnitude =
    exponent < 0
      ? mantissa / (exactPowersOfTen[-exponent] as number)
      : mantissa * (exactPowersOfTen[exponent] as number);
  scanned = sign === 45 ? -magnitude : magnitude;
  return i;
}

/**
 * The bytes `start..end` as a plain decimal: exactly what `Number()` would give, or NaN when they are
 * not one or need more than the fast path (see `scanDecimal`). The caller falls back to `Number(text)`.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  return scanDecimal(bytes, start, end) === end ? scanned : Number.NaN;
}
