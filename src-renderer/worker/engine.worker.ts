import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import { selectBackend } from '../../src-shared/engine/backend';
import { benchTraining } from '../../src-shared/engine/bench';
import { type GpuLike, probeBackends, trainingOrder, type WebGlLike } from '../../src-shared/engine/probe';
import { tf } from '../../src-shared/engine/tf';
import { analyzeRuns } from '../../src-shared/science/analysis';
import type { WorkerReply, WorkerRequest } from './protocol';

// Training runs here, off the UI thread. The few parts of the worker's global scope used here
// (the DOM lib, not the WebWorker one, is loaded for the renderer).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply): void;
  crossOriginIsolated?: boolean;
};

// The build copies the WASM backend's binaries to /wasm/, beside /assets/ where this worker lives.
// Single-threaded WASM: tfjs 4.22 starts its pthread workers from a blob: URL inside this worker, and
// training hung there even with worker-src blob: allowed (Chromium 156); threads wait for a fix.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setWasmPaths(new URL(/* @vite-ignore */ '../wasm/', import.meta.url).href);

function createWebGl2(): WebGlLike | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  return new OffscreenCanvas(1, 1).getContext('webgl2') as WebGlLike | null;
}

let report: BackendReport | null = null;

async function probe(): Promise<BackendReport> {
  report ??= withWasmThreadsOff(
    await probeBackends({
      gpu: (navigator as Navigator & { gpu?: GpuLike }).gpu,
      createWebGl2: typeof OffscreenCanvas === 'undefined' ? undefined : createWebGl2,
      webAssembly: typeof WebAssembly === 'undefined' ? undefined : WebAssembly,
      sharedMemory: scope.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined',
    }),
  );
  return report;
}

/** Says so where the page could have WASM threads but the engine runs single-threaded (see above). */
function withWasmThreadsOff(probed: BackendReport): BackendReport {
  const probes = probed.probes.map((probe) =>
    probe.backend === 'wasm' && probe.detail.endsWith(', threads')
      ? {
          ...probe,
          detail: `${probe.detail.slice(0, -', threads'.length)}, threads possible but off (tfjs 4.22 hangs with them in a worker)`,
        }
      : probe,
  );
  return { ...probed, probes };
}

async function useBackend(preference: BackendName | null): Promise<BackendName> {
  return selectBackend(preference ?? undefined, trainingOrder(await probe()));
}

// One request at a time: a benchmark and a probe must not share the GPU.
let queue: Promise<unknown> = Promise.resolve();

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      if (request.type === 'probe') {
        scope.postMessage({ id: request.id, type: 'probe', report: await probe() });
      } else if (request.type === 'bench') {
        await useBackend(request.backend);
        scope.postMessage({ id: request.id, type: 'bench', result: await benchTraining(request.model, request.steps) });
      } else if (request.type === 'fit') {
        // Fitting takes a second or more: here, not on the UI thread.
        scope.postMessage({ id: request.id, type: 'fit', analysis: analyzeRuns(request.runs, request.options) });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      scope.postMessage({ id: request.id, type: 'error', message });
    }
  });
};
