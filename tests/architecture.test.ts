import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The import rules docs/architecture.md states, checked on every source file that is not a test.
const root = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|svelte)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specifiers = [
    ...text.matchAll(
      /(?:import|export)[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
    ),
  ];
  return specifiers.map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

/** The repository path an import resolves to (`src-main/store/runs`), or the package name. */
function targetOf(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(root, resolve(root, file, '..', specifier));
}

const isTest = (file: string) =>
  /\.test\.ts$/.test(file) || file.endsWith('testing.ts') || file.endsWith('-fixture.ts');

/** Every import of the non-test files under `dir`, as [file, specifier, target]. */
function importsUnder(dir: string): Array<[string, string, string]> {
  return sourceFiles(dir)
    .filter((file) => !isTest(file))
    .flatMap((file) =>
      importsOf(file).map((specifier) => [file, specifier, targetOf(file, specifier)] as [string, string, string]),
    );
}

/** The folder of `src-shared` or `src-main` a path lies in (`engine`, `store`), or the file (`format.ts`). */
function areaOf(path: string, layer: string): string | null {
  if (!path.startsWith(`${layer}/`)) return null;
  return path.slice(layer.length + 1).split('/')[0] ?? null;
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

  it('keeps the floors inside src-shared: contract at the bottom, engine and science apart, report on science', () => {
    const allowed: Record<string, string[]> = {
      contract: ['contract'],
      data: ['data', 'contract'],
      engine: ['engine', 'contract', 'data'],
      science: ['science', 'contract', 'data'],
      report: ['report', 'contract', 'science'],
    };
    const anywhere = ['format.ts', 'format', 'random.ts', 'random'];
    for (const [file, specifier, target] of importsUnder('src-shared')) {
      const from = areaOf(file, 'src-shared') as string;
      const to = areaOf(target, 'src-shared');
      // A new folder of src-main gets its rule here (and in docs/architecture.md) before it may import anything.
      if (!from.endsWith('.ts')) expect(Object.keys(allowed), `${file} is in a folder with no rule`).toContain(from);
      if (to === null || anywhere.includes(to) || !(from in allowed)) continue;
      expect(allowed[from], `${file} imports ${specifier}`).toContain(to);
    }
  });

  it('keeps src-main in its layers: only electron/ imports Electron, store/ knows nothing above it, use cases sit on the store', () => {
    const allowed: Record<string, string[]> = {
      store: ['store'],
      usecases: ['usecases', 'store'],
      training: ['training', 'usecases', 'store'],
      export: ['export', 'store'],
      api: ['api', 'usecases', 'store', 'export'],
      server: ['server', 'api', 'store'],
      electron: ['electron', 'api', 'server', 'store', 'export'],
      cli: ['cli', 'api', 'server', 'usecases', 'store', 'training', 'export'],
    };
    const anywhere = ['version.ts', 'version'];
    for (const [file, specifier, target] of importsUnder('src-main')) {
      const from = areaOf(file, 'src-main') as string;
      if (specifier === 'electron') expect(from, `${file} imports electron`).toBe('electron');
      const to = areaOf(target, 'src-main');
      // A new folder of src-main gets its rule here (and in docs/architecture.md) before it may import anything.
      if (!from.endsWith('.ts')) expect(Object.keys(allowed), `${file} is in a folder with no rule`).toContain(from);
      if (to === null || anywhere.includes(to) || !(from in allowed)) continue;
      expect(allowed[from], `${file} imports ${specifier}`).toContain(to);
    }
  });

  it('finds the imports it checks (the scanner works)', () => {
    expect(targetOf('src-main/api/index.ts', '../store/runs')).toBe('src-main/store/runs');
    expect(areaOf('src-main/store/runs', 'src-main')).toBe('store');
    expect(importsUnder('src-main/store').some(([, , target]) => target.startsWith('src-shared/contract'))).toBe(true);
    expect(importsOf('src-main/api/index.ts')).toContain('./router');
  });
});
