import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IsoflopError } from '../../src-shared/contract';
import { contentTypeOf, resolveInside } from './renderer-assets';

const root = join('/opt', 'isoflop', 'renderer');

function refusal(path: string): string | undefined {
  try {
    resolveInside(root, path);
    return undefined;
  } catch (error) {
    return error instanceof IsoflopError ? error.code : 'other';
  }
}

describe('resolveInside', () => {
  it('maps URL paths to files under the root', () => {
    expect(resolveInside(root, '/index.html')).toBe(join(root, 'index.html'));
    expect(resolveInside(root, '/assets/app%20one.js')).toBe(join(root, 'assets', 'app one.js'));
  });

  it('refuses every way out of the root', () => {
    for (const path of [
      '/../etc/passwd',
      '/a/../../b',
      '/..%2f..%2fetc/passwd',
      '/%2e%2e/x',
      '/a\\..\\b',
      '/x%00.js',
    ]) {
      expect(refusal(path)).toBe('FORBIDDEN');
    }
  });

  it('refuses broken URL encoding with BAD_REQUEST', () => {
    expect(refusal('/%E0%A4%A')).toBe('BAD_REQUEST');
  });
});

describe('contentTypeOf', () => {
  it('gives WASM its MIME type, which streaming compilation requires', () => {
    expect(contentTypeOf('tfjs-backend-wasm-simd.wasm')).toBe('application/wasm');
    expect(contentTypeOf('unknown.xyz')).toBe('application/octet-stream');
  });
});
