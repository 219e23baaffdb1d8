import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import { selectBackend, wasmThreads, withWasmThreads } from '../../src-shared/engine/backend';
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

// The build copies the WASM backend's binaries, and the scripts its threads start from, to /wasm/, beside
// /assets/ where this worker lives (see scripts/vite-tfjs-wasm-threads.ts). Threads need the page to be
// cross-origin isolated, which the app's headers make it.
setWasmPaths(new URL(/* @vite-ignore */ '../wasm/', import.meta.url).href);

function createWebGl2(): WebGlLike | null {
  if (typeof OffscreenCanvas === 'undefined') return null;
  return new OffscreenCanvas(1, 1).getContext('webgl2') as WebGlLike | null;
}

let report: BackendReport | null = null;

async function probe(): Promise<BackendReport> {
  report ??= await probeBackends({
    gpu: (navigator as Navigator & { gpu?: GpuLike }).gpu,
    createWebGl2: typeof OffscreenCanvas === 'undefined' ? undefined : createWebGl2,
    webAssembly: typeof WebAssembly === 'undefined' ? undefined : WebAssembly,
    sharedMemory: scope.crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined',
  });
  return report;
}

/** Starts the preferred backend, else the first in `order` that starts (training order by default). */
async function useBackend(preference: BackendName | null, order?: BackendName[]): Promise<BackendName> {
  const backend = await selectBackend(preference ?? undefined, order ?? trainingOrder(await probe()));
  // Once WASM runs, its probe (and so a run's record of it) says how many threads it got.
  const threads = wasmThreads();
  if (report && threads !== null) {
    report = {
      ...report,
      probes: report.probes.map((p) =>
        p.backend === 'wasm' ? { ...p, detail: withWasmThreads(p.detail, threads) } : p,
      ),
    };
  }
  return backend;
}

/** What the probe says of a backend (its adapter, or WASM's threads), as a run records it. */
function detailOf(backend: BackendName): string | null {
  return report?.probes.find((p) => p.backend === backend)?.detail ?? null;
}

// One request at a time in each worker: a probe must not share the GPU with training. (The UI side gives a
// benchmark a worker of its own; see engine.ts.)
let queue: Promise<unknown> = Promise.resolve();
let training: Trainer | null = null;

interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}

/** The device tfjs's WebGPU backend trains on; null on the other backends. */
function webGpuDevice(): GpuDeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GpuDeviceLike }).device ?? null;
}

/**
 * Trains one run. If WebGPU fails mid-run (its device is lost, or a GPU call fails), the run goes on
 * from its last checkpoint (or from the start, before the first) on the next backend in training order,
 * and the main side is told why, so that the run's log says so.
 */
async function train(request: Extract<WorkerRequest, { type: 'train' }>): Promise<void> {
  const order = trainingOrder(await probe());
  let backend = await useBackend(request.backend);
  const { run, dataset } = request;
  // Fetched once per run: a start on the next backend after a fallback reads the same bytes (the samplers
  // only index into them).
  const buffers = new Map<'train' | 'val', Promise<ArrayBuffer>>();
  const read = (split: 'train' | 'val') => {
    let buffer = buffers.get(split);
    if (!buffer) {
      // The same origin serves the page, the worker and the data, over HTTP or the app's own protocol.
      buffer = fetch(new URL(`/data/datasets/${dataset.id}/${split}.bin`, self.location.href)).then((response) => {
        if (!response.ok)
          throw new Error(`Could not read the ${split} split of ${dataset.name} (HTTP ${response.status}).`);
        return response.arrayBuffer();
      });
      buffers.set(split, buffer);
    }
    return buffer;
  };
  let checkpoint: Checkpoint | null = null;
  if (request.resume) {
    const response = await fetch(new URL(request.resume.weightsUrl, self.location.href));
    if (!response.ok) throw new Error(`Could not read the checkpoint of ${run.name} (HTTP ${response.status}).`);
    checkpoint = decodeCheckpoint(request.resume.manifest, new Uint8Array(await response.arrayBuffer()));
  }
  const evaluations: Array<[number, number]> = [];
  for (;;) {
    if (run.config.model.family === 'gpt' && backend === 'wasm') run.config.model.embedding = 'onehot';
    const model = createModel(run.config.model, run.config.seed, run.config.batchSize);
    const { sampler, evalBatches } = await prepareRunData(dataset, run, read);
    const device = webGpuDevice();
    let lost: string | null = null;
    let lastStep = checkpoint?.step ?? 0;
    const trainer = new Trainer(model, sampler, trainerOptions(run), {
      ...evaluationHooks(model, evalBatches),
      onMetrics: (metrics) => {
        lastStep = metrics.step;
        if (metrics.valLoss !== null) evaluations.push([metrics.step, metrics.valLoss]);
        scope.postMessage({ id: request.id, type: 'metrics', metrics });
        if (device && request.loseWebGpuDeviceAtStep !== null && metrics.step >= request.loseWebGpuDeviceAtStep) {
          device.destroy();
        }
      },
      onCheckpoint: (next) => {
        checkpoint = next;
        const { manifest, weights } = encodeCheckpoint(next);
        const reply: WorkerReply = { id: request.id, type: 'checkpoint', manifest, weights };
        scope.postMessage(reply, [weights.buffer]);
      },
    });
    void device?.lost.then((info) => {
      lost = `its device was lost (${[info.reason, info.message].filter(Boolean).join(': ') || 'no reason given'})`;
      trainer.requestStop();
    });
    training = trainer;
    let failure: string;
    try {
      if (checkpoint) trainer.restore(checkpoint);
      const result = await trainer.run();
      if (lost === null) {
        const bestValLoss = evaluations.reduce<number | null>(
          (best, [, v]) => (best === null || v < best ? v : best),
          null,
        );
        const adapter = detailOf(backend);
        scope.postMessage({ id: request.id, type: 'trained', result: { ...result, bestValLoss }, backend, adapter });
        return;
      }
      failure = lost;
    } catch (error) {
      if (backend !== 'webgpu') throw error;
      failure = lost ?? `a GPU call failed (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      training = null;
      try {
        trainer.dispose();
        model.dispose();
      } catch {
        // Tensors of a lost device may refuse to go; the backend is left behind anyway.
      }
    }
    if (stopRequested) throw new Error(`${run.name} was stopped while WebGPU failed (${failure}).`);
    const next = await useBackend(
      null,
      order.filter((name) => name !== 'webgpu'),
    );
    const fromStep = (checkpoint as Checkpoint | null)?.step ?? 0;
    // Evaluations past the checkpoint are made again on the next backend.
    evaluations.splice(0, evaluations.length, ...evaluations.filter(([step]) => step <= fromStep));
    scope.postMessage({
      id: request.id,
      type: 'fallback',
      backend: next,
      adapter: detailOf(next),
      fromStep,
      message:
        `WebGPU stopped at step ${lastStep}: ${failure}. The run goes on with ${next} from ` +
        (fromStep > 0 ? `its checkpoint at step ${fromStep}.` : 'the start (it had no checkpoint yet).'),
    });
    backend = next;
  }
}

let stopRequested = false;

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'stop') {
    stopRequested = true;
    training?.requestStop();
    return;
  }
  queue = queue.then(async () => {
    try {
      if (request.type === 'probe') {
        scope.postMessage({ id: request.id, type: 'probe', report: await probe() });
      } else if (request.type === 'bench') {
        await useBackend(request.backend);
        const result = await benchTraining(request.model, request.steps, request.rounds);
        scope.postMessage({ id: request.id, type: 'bench', result });
      } else if (request.type === 'train') {
        stopRequested = false;
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
