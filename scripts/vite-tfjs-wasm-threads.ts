import type { Plugin } from 'vite';

/**
 * tfjs-backend-wasm starts its pthread workers from two blob: URLs: the worker script, and a script
 * made from `wasmFactoryThreadedSimd.toString()`, the text of the Emscripten factory as it stands in the
 * bundle. Minified, that function refers to names it no longer defines, and every pthread worker dies
 * with "ReferenceError: e is not defined" while the backend waits for them forever (tensorflow/tfjs#4107,
 * #4539); and blob: scripts would need the CSP to allow them. This plugin points both at files the
 * build writes beside the WASM binaries (scripts/build.mjs: `pthreadScripts`), served from the app's own
 * origin like everything else. The engine worker itself still runs the bundled factory.
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
  return {
    name: 'isoflop:tfjs-wasm-threads',
    transform(code, id) {
      if (!id.replaceAll('\\', '/').endsWith('/@tensorflow/tfjs-backend-wasm/dist/backend_wasm.js')) return null;
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
  };
}
