import { parentPort, workerData } from 'node:worker_threads';
import { type GradientRequest, type GradientSetup, serveGradients } from '../../src-shared/engine/gradient-pool';
import { setWasmThreads, useNodeBackend } from './node-backends';

/** A data-parallel helper thread in Node (gradient-helpers.ts): single-threaded WASM, its own model. */
const port = parentPort;
if (port) {
  await serveGradients(
    workerData as GradientSetup,
    () => {
      setWasmThreads(1);
      return useNodeBackend('wasm');
    },
    {
      answer: (message, transfer = []) => port.postMessage(message, transfer),
      onRequest: (handle) => port.on('message', (request: GradientRequest) => handle(request)),
    },
  );
}
