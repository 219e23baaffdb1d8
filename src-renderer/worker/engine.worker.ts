import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import { selectBackend } from '../../src-shared/engine/backend';
import { benchTraining } from '../../src-shared/engine/bench';
import { decodeCheckpoint, encodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { type GpuLike, probeBackends, trainingOrder, type WebGlLike } from '../../src-shared/engine/probe';
import { createModel, evaluationHooks, prepareRunData, trainerOptions } from '../../src-shared/engine/run-data';
import { tf } from '../../src-shared/engine/tf';
import { type Checkpoint, Trainer } from '../../src-shared/engine/trainer';
import { analyzeRuns } from '../../src-shared/science/analysis';
import type { WorkerReply, WorkerRequest } from './protocol';

// Training runs here, off the UI thread. The few parts of the worker's global scope used here
// (the DOM lib, not the WebWorker one, is loaded for the renderer).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
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
let training: Trainer | null = null;

async function train(request: Extract<WorkerRequest, { type: 'train' }>): Promise<void> {
  const backend = await useBackend(request.backend);
  const { run, dataset } = request;
  if (run.config.model.family === 'gpt' && backend === 'wasm') run.config.model.embedding = 'onehot';
  const model = createModel(run.config.model, run.config.seed);
  const read = async (split: 'train' | 'val') => {
    // The same origin serves the page, the worker and the data, over HTTP or the app's own protocol.
    const response = await fetch(new URL(`/data/datasets/${dataset.id}/${split}.bin`, self.location.href));
    if (!response.ok)
      throw new Error(`Could not read the ${split} split of ${dataset.name} (HTTP ${response.status}).`);
    return response.arrayBuffer();
  };
  const { sampler, evalBatches } = await prepareRunData(dataset, run, read);
  let resume: Checkpoint | null = null;
  if (request.resume) {
    const response = await fetch(new URL(request.resume.weightsUrl, self.location.href));
    if (!response.ok) throw new Error(`Could not read the checkpoint of ${run.name} (HTTP ${response.status}).`);
    resume = decodeCheckpoint(request.resume.manifest, new Uint8Array(await response.arrayBuffer()));
  }
  let bestValLoss: number | null = null;
  const trainer = new Trainer(model, sampler, trainerOptions(run), {
    ...evaluationHooks(model, evalBatches),
    onMetrics: (metrics) => {
      if (metrics.valLoss !== null && (bestValLoss === null || metrics.valLoss < bestValLoss))
        bestValLoss = metrics.valLoss;
      scope.postMessage({ id: request.id, type: 'metrics', metrics });
    },
    onCheckpoint: (checkpoint) => {
      const { manifest, weights } = encodeCheckpoint(checkpoint);
      const reply: WorkerReply = { id: request.id, type: 'checkpoint', manifest, weights };
      scope.postMessage(reply, [weights.buffer]);
    },
  });
  training = trainer;
  try {
    if (resume) trainer.restore(resume);
    const result = await trainer.run();
    const adapter = report?.probes.find((p) => p.backend === backend)?.detail ?? null;
    scope.postMessage({ id: request.id, type: 'trained', result: { ...result, bestValLoss }, backend, adapter });
  } finally {
    training = null;
    trainer.dispose();
    model.dispose();
  }
}

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'stop') {
    training?.requestStop();
    return;
  }
  queue = queue.then(async () => {
    try {
      if (request.type === 'probe') {
        scope.postMessage({ id: request.id, type: 'probe', report: await probe() });
      } else if (request.type === 'bench') {
        await useBackend(request.backend);
        scope.postMessage({ id: request.id, type: 'bench', result: await benchTraining(request.model, request.steps) });
      } else if (request.type === 'train') {
        await train(request);
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
