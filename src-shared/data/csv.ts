import { IsoflopError } from '../contract/errors';

/**
 * A streaming RFC 4180 parser: commas, double-quoted fields with "" escapes and newlines inside,
 * LF line ends (the text reader has already turned CRLF into LF). Blank lines are skipped.
 */
export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts */
  line: number;
}

export class CsvParser {
  private field = '';
  private record: string[] = [];
  private inQuotes = false;
  /** A quote ended the last chunk inside a quoted field: closing, or the first of "" */
  private quotePending = false;
  private line = 1;
  private recordLine = 1;
  private fieldStarted = false;

  constructor(private readonly fileName: string) {}

  push(text: string, emit: (record: CsvRecord) => void): void {
    let i = 0;
    const n = text.length;
    if (this.quotePending) {
      this.quotePending = false;
      if (text.charCodeAt(0) === 34) {
        this.field += '"';
        i = 1;
      } else this.inQuotes = false;
    }
    while (i < n) {
      if (this.inQuotes) {
        const quote = text.indexOf('"', i);
        const end = quote < 0 ? n : quote;
        const piece = text.slice(i, end);
        this.field += piece;
        this.line += countNewlines(piece);
        if (quote < 0) return;
        if (quote + 1 === n) {
          this.quotePending = true;
          return;
        }
        if (text.charCodeAt(quote + 1) === 34) {
          this.field += '"';
          i = quote + 2;
        } else {
          this.inQuotes = false;
          i = quote + 1;
        }
        continue;
      }
      let j = i;
      let c = 0;
      while (j < n) {
        c = text.charCodeAt(j);
        if (c === 44 || c === 10 || c === 34) break;
        j++;
      }
      if (j > i) {
        this.field += text.slice(i, j);
        this.fieldStarted = true;
      }
      if (j === n) return;
      if (c === 44) {
        this.endField();
      } else if (c === 10) {
        const record = this.endRecord();
        this.line++;
        this.recordLine = this.line;
        if (record) emit(record);
      } else if (this.field.length === 0 && !this.fieldStarted) {
        this.inQuotes = true;
        this.fieldStarted = true;
      } else {
        throw new IsoflopError(
          'INVALID_INPUT',
          `Line ${this.line} of ${this.fileName} has a quote (") inside an unquoted field. ` +
            'Quote the whole field and double the quotes inside it ("like ""this""").',
        );
      }
      i = j + 1;
    }
  }

  end(emit: (record: CsvRecord) => void): void {
    if (this.quotePending) {
      this.quotePending = false;
      this.inQuotes = false;
    }
    if (this.inQuotes) {
      throw new IsoflopError(
        'INVALID_INPUT',
        `${this.fileName} ends inside a quoted field that starts on line ${this.recordLine}. Close the quote.`,
      );
    }
    const record = this.endRecord();
    if (record) emit(record);
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
    this.fieldStarted = false;
  }

  private endRecord(): CsvRecord | null {
    this.endField();
    const fields = this.record;
    this.record = [];
    if (fields.length === 1 && fields[0] === '') return null;
    return { fields, line: this.recordLine };
  }
}

/** The header row of the start of a CSV file; [] if it cannot be read there. */
export function csvHeader(text: string, fileName: string): string[] {
  const parser = new CsvParser(fileName);
  let header: string[] | null = null;
  const take = (record: CsvRecord) => {
    header ??= record.fields.map((field) => field.trim());
  };
  try {
    parser.push(text.replace(/^\ufeff/, '').replaceAll('\r\n', '\n'), take);
    if (!header) parser.end(take);
  } catch {
    // A malformed line after the header does not matter here; the import reports it properly.
  }
  return header ?? [];
}

function countNewlines(text: string): number {
  let count = 0;
  let at = text.indexOf('\n');
  while (at >= 0) {
    count++;
    at = text.indexOf('\n', at + 1);
  }
  return count;
}
