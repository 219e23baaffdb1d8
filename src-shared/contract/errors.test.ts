import { describe, expect, it } from 'vitest';
import { IsoflopError, unwrapResult } from './errors';

describe('unwrapResult', () => {
  it('gives back the value of a good answer', () => {
    expect(unwrapResult({ ok: true, value: { a: 1 } })).toEqual({ a: 1 });
  });

  it('rethrows an error answer as an IsoflopError with its code', () => {
    expect(() => unwrapResult({ ok: false, error: { code: 'NOT_FOUND', message: 'No run r1.' } })).toThrow(
      new IsoflopError('NOT_FOUND', 'No run r1.'),
    );
  });

  it('refuses anything that is not an API result', () => {
    for (const raw of [null, 'ok', { ok: 'yes' }, { ok: false, error: { code: 'WHATEVER', message: 'x' } }]) {
      expect(() => unwrapResult(raw)).toThrow(/not an API result/);
    }
  });
});
