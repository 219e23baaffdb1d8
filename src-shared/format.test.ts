import { describe, expect, it } from 'vitest';
import { formatFlops, formatKnownFloor, formatRatio, knownFloorOf, knownFloorSentence } from './format';

describe('formatRatio', () => {
  it('keeps a decimal while small and reads like a count once large', () => {
    expect(formatRatio(17.94)).toBe('17.9');
    expect(formatRatio(2.25)).toBe('2.3');
    expect(formatRatio(700.2)).toBe('700');
    expect(formatRatio(2101.4)).toBe('2,101');
    expect(formatRatio(158_281.8)).toBe('158k');
    expect(formatRatio(1_292_233_868_941.9)).toBe('1.3T');
    expect(formatRatio(1.4676e16)).toBe('1.5e16');
  });
});

describe('the known floor beside a fitted E', () => {
  it('says how far above or below the floor E is, and nothing where no floor is known', () => {
    const noise = { loss: 0.09, kind: 'noise' } as const;
    expect(knownFloorSentence(0.102, noise)).toBe("the data's known noise floor is 0.09: E is 13.3% above it");
    expect(knownFloorSentence(0.072, noise)).toBe("the data's known noise floor is 0.09: E is 20.0% below it");
    expect(formatKnownFloor(0.102, noise)).toBe(" (the data's known noise floor is 0.09: E is 13.3% above it)");
    expect(formatKnownFloor(0.102, null)).toBe('');
    expect(knownFloorOf({ kind: 'table', irreducibleLoss: 0.09 })).toEqual(noise);
    expect(knownFloorOf({ kind: 'table', irreducibleLoss: null })).toBeNull();
    expect(knownFloorOf({ kind: 'text' })).toBeNull();
  });

  it("turns a generated corpus's bits per byte into nats per token, an upper bound", () => {
    const corpus = { kind: 'text', entropyBitsPerByte: 0.869, splits: { val: { bytes: 3000, tokens: 1000 } } };
    const floor = knownFloorOf(corpus);
    expect(floor?.kind).toBe('entropy bound');
    expect(floor?.loss).toBeCloseTo(0.869 * Math.LN2 * 3, 6);
    const bytes = knownFloorOf({ ...corpus, splits: { val: { bytes: 1000, tokens: 1000 } } });
    expect(bytes?.loss).toBeCloseTo(0.602, 3);
    expect(knownFloorSentence(0.55, bytes as NonNullable<typeof bytes>)).toMatch(
      /entropy bound is 0\.602 nats.*below it/,
    );
  });
});

describe('formatFlops', () => {
  it('writes budgets one way: two significant digits, a bare exponent', () => {
    expect([1e7, 3e7, 2.5e18, 6.08e20, 1e-3 * 1e6, 12_345].map(formatFlops)).toEqual([
      '1e7',
      '3e7',
      '2.5e18',
      '6.1e20',
      '1e3',
      '1.2e4',
    ]);
  });
});
