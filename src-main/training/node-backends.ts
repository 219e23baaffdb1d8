import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../../src-shared/contract/backend';
import { selectBackend } from '../../src-shared/engine/backend';
import type { BackendPolicy } from '../../src-shared/engine/session/run-session';
import { tf } from '../../src-shared/engine/tf';

/** Training backends in Node: WASM (SIMD) and the plain-JavaScript CPU backend. */

export const nodeBackendOrder: BackendName[] = ['wasm', 'cpu'];

function wasmFolder(): string {
  // The bundled CLI ships the .wasm files beside it (dist/wasm); a source checkout reads node_modules.
  const beside = join(dirname(fileURLToPath(import.meta.url)), '..', 'wasm');
  if (existsSync(join(beside, 'tfjs-backend-wasm-simd.wasm'))) return beside;
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
}

let pathsSet = false;

export async function useNodeBackend(preference?: BackendName): Promise<BackendName> {
  if (!pathsSet) {
    // Production mode: no per-op debug checks, and no advert for tfjs-node (which cannot install here).
    tf.env().set('PROD', true);
    setWasmPaths(`${wasmFolder()}/`);
    pathsSet = true;
  }
  return selectBackend(preference, nodeBackendOrder);
}

/** The run session's backend policy in Node: the preferred backend (else WASM, then CPU); no GPU to fall back from. */
export function nodeBackendPolicy(preference?: BackendName): BackendPolicy {
  return {
    start: async () => ({ backend: await useNodeBackend(preference), adapter: null }),
    fallback: async () => null,
    device: () => null,
  };
}
