// Builds everything the app, web mode and the CLI run from: dist/renderer, dist/cli, dist/electron.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { nodeEsmBanner } from './node-esm-banner.mjs';

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
    // tfjs's ESM builds list their side-effect files (kernel and gradient registration) for bundlers.
    mainFields: ['module', 'main'],
    // Loaded from node_modules: playwright-core to print PDFs, webgpu (Dawn, a native addon) to train on a GPU.
    external: ['playwright-core', 'webgpu'],
    // Bundled CommonJS code may call require() or read __dirname; give the ESM output both.
    banner: nodeEsmBanner,
  }),
  // Data-parallel training's helper threads (gradient-helpers.ts), beside the CLI.
  esbuild({
    ...common,
    entryPoints: ['src-main/training/gradient-worker.ts'],
    outfile: 'dist/cli/gradient-worker.js',
    format: 'esm',
    mainFields: ['module', 'main'],
    external: ['webgpu'],
    banner: nodeEsmBanner,
  }),
  // The CSV importer's reader threads (table-lanes.ts), beside each bundle that imports.
  esbuild({
    ...common,
    entryPoints: ['src-main/store/datasets/import/table-worker.ts'],
    outfile: 'dist/cli/table-worker.js',
    format: 'esm',
  }),
  esbuild({
    ...common,
    entryPoints: ['src-main/store/datasets/import/table-worker.ts'],
    outfile: 'dist/electron/table-worker.cjs',
    format: 'cjs',
  }),
  esbuild({
    ...common,
    entryPoints: ['src-main/electron/main.ts'],
    outfile: 'dist/electron/main.cjs',
    format: 'cjs',
    external: ['electron', 'playwright-core'],
  }),
  esbuild({
    ...common,
    entryPoints: ['src-main/electron/preload.ts'],
    outfile: 'dist/electron/preload.cjs',
    format: 'cjs',
    external: ['electron'],
  }),
]);
// The WASM backend's binaries, beside the CLI (dist/wasm) and the renderer (dist/renderer/wasm). The app's
// workers run the single-threaded builds (their threads are data-parallel helpers, gradient-pool.ts); Node
// keeps the threaded one for ISOFLOP_PARALLEL=threads.
const wasmSource = new URL('node_modules/@tensorflow/tfjs-backend-wasm/dist/', root);
for (const target of ['dist/wasm', 'dist/renderer/wasm']) {
  mkdirSync(new URL(`${target}/`, root), { recursive: true });
  for (const file of readdirSync(wasmSource).filter((name) => name.endsWith('.wasm'))) {
    if (target === 'dist/renderer/wasm' && file.includes('threaded')) continue;
    copyFileSync(new URL(file, wasmSource), new URL(`${target}/${file}`, root));
  }
}
// WASM threads in Node (src-main/training/wasm-threads.ts): tfjs's Emscripten factory, and its pthread worker
// with two lines first that load that factory from the file beside it rather than from a blob: URL.
const wasmOut = new URL('node_modules/@tensorflow/tfjs-backend-wasm/wasm-out/', root);
copyFileSync(
  new URL('tfjs-backend-wasm-threaded-simd.js', wasmOut),
  new URL('dist/wasm/tfjs-backend-wasm-threaded-simd.js', root),
);
const { wasmWorkerContents } = createRequire(import.meta.url)(
  fileURLToPath(new URL('tfjs-backend-wasm-threaded-simd.worker.js', wasmOut)),
);
writeFileSync(
  new URL('dist/wasm/tfjs-backend-wasm-threaded-simd.node-worker.cjs', root),
  [
    "const factory = require('node:path').join(__dirname, 'tfjs-backend-wasm-threaded-simd.js');",
    'URL.createObjectURL = () => factory;',
    'URL.revokeObjectURL = () => {};',
    // As tfjs does before it makes its blob: the string's newlines stand for "\n" escapes in the script.
    wasmWorkerContents.replace(/\n/g, '\\n'),
  ].join('\n'),
);
if (!quiet) console.log('built dist/renderer, dist/cli, dist/electron');
