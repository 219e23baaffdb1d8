import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

/**
 * tfjs-backend-wasm starts its pthread workers from two blob: URLs: the worker script, and a script
 * made from `wasmFactoryThreadedSimd.toString()`, the text of the Emscripten factory as it stands in the
 * bundle. Minified, that function refers to names it no longer defines, and every pthread worker dies
 * with "ReferenceError: e is not defined" while the backend waits for them forever (tensorflow/tfjs#4107,
 * #4539); and blob: scripts would need the CSP to allow them. This plugin points both at files it
 * emits into wasm/, beside the WASM binaries (which scripts/build.mjs copies there), served from the
 * app's own origin like everything else: the worker script (published as a string in a CommonJS module)
 * and the Emscripten factory as published. The engine worker itself still runs the bundled factory.
 */
const pthreadWorkerFile = 'tfjs-backend-wasm-threaded-simd.worker.js';
const pthreadMainFile = 'tfjs-backend-wasm-threaded-simd.js';

const folder = '(wasmPathPrefix != null ? wasmPathPrefix : prefix)';
const replacements: Array<[RegExp, string]> = [
  [
    /const response = wasmWorkerContents\.replace\([^;]*;\s*const blob = new Blob\(\[response\][^;]*;\s*return URL\.createObjectURL\(blob\);/,
    `return ${folder} + '${pthreadWorkerFile}';`,
  ],
  [
    /new Blob\(\[`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)\], \{ type: 'text\/javascript' \}\)/,
    `(wasmPathPrefix != null ? wasmPathPrefix : '') + '${pthreadMainFile}'`,
  ],
];

export function tfjsWasmThreads(): Plugin {
  let wasmOut: string | null = null;
  return {
    name: 'isoflop:tfjs-wasm-threads',
    transform(code, id) {
      if (!id.replaceAll('\\', '/').endsWith('/@tensorflow/tfjs-backend-wasm/dist/backend_wasm.js')) return null;
      wasmOut = join(dirname(id), '../wasm-out');
      let patched = code;
      for (const [pattern, replacement] of replacements) {
        if (!pattern.test(patched)) {
          throw new Error(
            `tfjs-backend-wasm no longer matches ${pattern}: check scripts/vite-tfjs-wasm-threads.ts against its new version.`,
          );
        }
        patched = patched.replace(pattern, replacement);
      }
      return { code: patched, map: null };
    },
    generateBundle() {
      if (!wasmOut) return; // this bundle does not hold the WASM backend
      const { wasmWorkerContents } = createRequire(import.meta.url)(join(wasmOut, pthreadWorkerFile)) as {
        wasmWorkerContents: string;
      };
      // As tfjs does before it makes its blob: the string's newlines stand for "\\n" escapes in the script.
      this.emitFile({
        type: 'asset',
        fileName: `wasm/${pthreadWorkerFile}`,
        source: wasmWorkerContents.replace(/\n/g, '\\n'),
      });
      this.emitFile({
        type: 'asset',
        fileName: `wasm/${pthreadMainFile}`,
        source: readFileSync(join(wasmOut, pthreadMainFile)),
      });
    },
  };
}
