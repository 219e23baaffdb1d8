// The first lines of every ESM bundle for Node (the CLI, its helper threads): bundled CommonJS code, such as
// tfjs-backend-wasm's Emscripten loader, calls require() and reads __filename and __dirname.
export const nodeEsmBanner = {
  js: [
    "import { createRequire as __createRequire } from 'node:module';",
    "import { fileURLToPath as __fileURLToPath } from 'node:url';",
    "import { dirname as __pathDirname } from 'node:path';",
    'const require = __createRequire(import.meta.url);',
    'const __filename = __fileURLToPath(import.meta.url);',
    'const __dirname = __pathDirname(__filename);',
  ].join(' '),
};
