// Builds everything the app, web mode and the CLI run from: dist/renderer, dist/cli, dist/electron.
import { readFileSync } from 'node:fs';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';

const root = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const define = { __ISOFLOP_VERSION__: JSON.stringify(version) };
const quiet = process.argv.includes('--quiet');

await viteBuild({ configFile: new URL('vite.config.ts', root).pathname, logLevel: quiet ? 'warn' : 'info' });

const common = { bundle: true, platform: 'node', target: 'node20', define, sourcemap: true, logLevel: 'warning' };
await Promise.all([
  esbuild({
    ...common,
    entryPoints: ['src-main/cli/isoflop.ts'],
    outfile: 'dist/cli/isoflop.js',
    format: 'esm',
    // Bundled CommonJS dependencies may call require(); give ESM output one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  }),
  esbuild({
    ...common,
    entryPoints: ['src-main/electron/main.ts'],
    outfile: 'dist/electron/main.cjs',
    format: 'cjs',
    external: ['electron'],
  }),
  esbuild({
    ...common,
    entryPoints: ['src-main/electron/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    format: 'cjs',
    external: ['electron'],
  }),
]);
if (!quiet) console.log('built dist/renderer, dist/cli, dist/electron');
