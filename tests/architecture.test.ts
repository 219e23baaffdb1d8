import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// DESIGN.md's layers: src-shared imports neither side; src-main and src-renderer never import each other.
const root = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|svelte)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:import|export)[^'"`]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return specifiers.map((match) => match[1] ?? match[2] ?? '');
}

function layerOf(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(root, resolve(root, file, '..', specifier)).split('/')[0] ?? '';
}

describe('layer boundaries', () => {
  it('keeps src-shared free of Node, Electron, the DOM sides and either layer above it', () => {
    for (const file of sourceFiles('src-shared').filter((f) => !f.endsWith('.test.ts'))) {
      for (const specifier of importsOf(file)) {
        const target = layerOf(file, specifier);
        expect(target, `${file} imports ${specifier}`).not.toMatch(/^(src-main|src-renderer|electron|node:)/);
      }
    }
  });

  it('keeps src-main and src-renderer apart', () => {
    for (const [from, forbidden] of [
      ['src-main', 'src-renderer'],
      ['src-renderer', 'src-main'],
    ] as const) {
      for (const file of sourceFiles(from)) {
        for (const specifier of importsOf(file)) {
          expect(layerOf(file, specifier), `${file} imports ${specifier}`).not.toBe(forbidden);
        }
      }
    }
  });

  it('keeps Node and Electron out of the renderer', () => {
    for (const file of sourceFiles('src-renderer')) {
      for (const specifier of importsOf(file)) {
        expect(specifier, `${file} imports ${specifier}`).not.toMatch(/^(node:|electron$|fs$|path$)/);
      }
    }
  });

  it('finds the imports it checks (the scanner works)', () => {
    expect(importsOf('src-main/api/index.ts')).toContain('./router');
  });
});
