import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../src-shared/engine/backend';
import {
  type GradientAnswer,
  type GradientRequest,
  type GradientSetup,
  serveGradients,
} from '../../src-shared/engine/gradient-pool';
import { tf } from '../../src-shared/engine/tf';

// A data-parallel helper, started by the training worker (gradient-helpers.ts): its own tfjs on
// single-threaded WASM and its own copy of the model. The first message is its setup; each later one a
// part of a batch to answer with the part's gradients (src-shared/engine/gradient-pool.ts).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<GradientSetup | GradientRequest>) => void) | null;
  postMessage(message: GradientAnswer, transfer?: Transferable[]): void;
};

setWasmPaths(new URL(/* @vite-ignore */ '../wasm/', import.meta.url).href);

// Requests come only once this helper has answered `ready` (startHelperPool waits for it), by which time
// `handle` is set; a second setup, or a request before the first setup, is refused as the bug it would be.
let setUp = false;
let handle: ((request: GradientRequest) => void) | null = null;
scope.onmessage = (event) => {
  if (handle) {
    handle(event.data as GradientRequest);
    return;
  }
  if (setUp || !('spec' in event.data)) {
    scope.postMessage({ kind: 'error', message: 'a gradient helper got a request before its model was ready' });
    return;
  }
  setUp = true;
  void serveGradients(
    event.data,
    () => {
      // The plain SIMD build: no pthreads, and no cross-origin isolation needed.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setThreadsCount(1);
      return selectBackend('wasm', ['wasm']);
    },
    {
      answer: (message, transfer = []) => scope.postMessage(message, transfer),
      onRequest: (serve) => {
        handle = serve;
      },
    },
  );
};
