import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { CsvParser, type CsvRow, csvHeader, parseDecimal } from './csv';

const encoder = new TextEncoder();

/** Parses `text` fed in pieces cut at `cuts`; returns what `read` takes from each record. */
function records<T>(text: string, cuts: number[], read: (row: CsvRow) => T): T[] {
  const bytes = encoder.encode(text);
  const parser = new CsvParser('t.csv');
  const out: T[] = [];
  const emit = (row: CsvRow) => out.push(read(row));
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    parser.push(bytes.slice(from, cut), emit);
    from = cut;
  }
  parser.end(emit);
  return out;
}

/** Each record's fields and line. */
const parse = (text: string, cuts: number[] = []) =>
  records(text, cuts, (row) => ({ fields: row.fields(), line: row.line }));

describe('CsvParser', () => {
  const tricky = 'a,b,c\n1,"x, y",3\n\n"multi\nline","say ""hi""",\n"é",,"last"';

  it('reads quotes, escapes, newlines in quotes, empty and trailing fields, and skips blank lines', () => {
    expect(parse(tricky)).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', 'x, y', '3'], line: 2 },
      { fields: ['multi\nline', 'say "hi"', ''], line: 4 },
      { fields: ['é', '', 'last'], line: 6 },
    ]);
  });

  it('gives the same records however the bytes are cut into chunks', () => {
    const whole = parse(tricky);
    const length = encoder.encode(tricky).length;
    for (let cut = 0; cut <= length; cut++) expect(parse(tricky, [cut]), `cut at ${cut}`).toEqual(whole);
    const random = new Random(3);
    for (let trial = 0; trial < 50; trial++) {
      const cuts = Array.from({ length: 4 }, () => random.int(length + 1)).sort((a, b) => a - b);
      expect(parse(tricky, cuts)).toEqual(whole);
    }
  });

  it('joins a record cut between chunks whose quoted field spans several lines, wherever the cuts fall', () => {
    const text = 'a,b\n1,"p\nq\n\nr"\n2,3\n';
    const whole = [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', 'p\nq\n\nr'], line: 2 },
      { fields: ['2', '3'], line: 6 },
    ];
    expect(parse(text)).toEqual(whole);
    for (let cut = 0; cut <= text.length; cut++) {
      for (let second = cut; second <= text.length; second++) {
        expect(parse(text, [cut, second]), `cuts at ${cut}, ${second}`).toEqual(whole);
      }
    }
  });

  it("reads each unquoted field as a number while it finds the field's end, wherever the chunks are cut", () => {
    const text = 'a,b,c\n-1.5,x,"2"\n3e2,,0.25\n7.,1e,+4\n';
    const numbers = (cuts: number[]) =>
      records(text, cuts, (row) => Array.from({ length: row.count }, (_, i) => row.number(i)));
    const whole = [
      [Number.NaN, Number.NaN, Number.NaN],
      [-1.5, Number.NaN, Number.NaN],
      [300, Number.NaN, 0.25],
      [7, Number.NaN, 4],
    ];
    for (let cut = 0; cut <= text.length; cut++) expect(numbers([cut]), `cut at ${cut}`).toEqual(whole);
  });

  it('names the line of a stray quote and of a quote left open', () => {
    expect(() => parse('a,b\n1,2\n3,x"y\n')).toThrow(/Line 3 of t\.csv has a quote \(".*inside an unquoted field/);
    expect(() => parse('a,b\n1,"2\n3,4\n')).toThrow(/t\.csv ends inside a quoted field that starts on line 2/);
    expect(() => parse('a,b\n"1"x,2\n')).toThrow(/Line 2 of t\.csv has text after the closing quote/);
  });

  it('reads the header for the import dialog, with a BOM and CRLF', () => {
    expect(csvHeader('\ufeff x ,y\r\n1,2\r\n', 'h.csv')).toEqual(['x', 'y']);
    expect(csvHeader('', 'h.csv')).toEqual([]);
  });
});

describe('parseDecimal', () => {
  const read = (text: string) => {
    const bytes = encoder.encode(text);
    return parseDecimal(bytes, 0, bytes.length);
  };

  it('returns exactly what Number() returns, on random decimals of every shape', () => {
    const random = new Random(11);
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      // up to 17 digits: mantissas on both sides of 2^53, where the fast path must give up
      const digits = String(Math.floor(random.next() * 10 ** (1 + random.int(17))));
      const point = random.int(digits.length + 1);
      let text = `${digits.slice(0, point)}.${digits.slice(point)}`;
      if (random.next() < 0.3) text = `${text}e${random.int(40) - 20}`;
      if (random.next() < 0.3) text = `-${text}`;
      const value = read(text);
      if (Number.isNaN(value)) continue;
      fast++;
      expect(value, text).toBe(Number(text));
    }
    expect(fast).toBeGreaterThan(14_000);
  });

  it('takes the usual forms and leaves the rest to Number()', () => {
    expect(read('0.1')).toBe(0.1);
    expect(read('-2.5e3')).toBe(-2500);
    expect(read('+7')).toBe(7);
    expect(read('.5')).toBe(0.5);
    expect(read('5.')).toBe(5);
    expect(Object.is(read('-0'), -0)).toBe(true);
    expect(read('1E-7')).toBe(1e-7);
    expect(read('9007199254740991')).toBe(9007199254740991);
    expect(read('0.000001234567890123456')).toBe(0.000001234567890123456);
    for (const other of [
      '',
      '-',
      '.',
      '1e',
      ' 1',
      '1 ',
      '0x10',
      'NaN',
      'Infinity',
      '1,5',
      '12345678901234567',
      '9007199254740993',
      '1e-23',
      '0.0000000000001234567890123456',
      '1e400',
    ]) {
      expect(read(other), other).toBeNaN();
    }
  });
});
