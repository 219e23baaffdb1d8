import { type GpuLike, probeBackends, type WebGlLike } from '../../src-shared/engine/probe';
import type { WorkerReply, WorkerRequest } from './protocol';

// Training runs here, off the UI thread; for now the worker answers which backends it can get.
// The few parts of the worker's global scope used here (the DOM lib, not the WebWorker one, is loaded).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
  crossOriginIsolated?: boolean;
};

function createWebGl2(): WebGlLike | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  return new OffscreenCanvas(1, 1).getContext('webgl2') as WebGlLike | null;
}

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'probe') {
    try {
      const report = await probeBackends({
        gpu: (navigator as Navigator & { gpu?: GpuLike }).gpu,
        createWebGl2: typeof OffscreenCanvas === 'undefined' ? undefined : createWebGl2,
        webAssembly: typeof WebAssembly === 'undefined' ? undefined : WebAssembly,
        sharedMemory: scope.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined',
      });
      scope.postMessage({ id: request.id, type: 'probe', report } satisfies WorkerReply);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      scope.postMessage({ id: request.id, type: 'error', message } satisfies WorkerReply);
    }
  }
};
