import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Input } from '../../src-shared/contract/api';
import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import { selectBackend } from '../../src-shared/engine/backend';
import { benchSpec, benchTraining } from '../../src-shared/engine/bench';
import { calibrateSpeed } from '../../src-shared/engine/calibrate';
import { decodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { type GpuLike, probeBackends, trainingOrder, type WebGlLike } from '../../src-shared/engine/probe';
import { type ApiCall, apiRunSink } from '../../src-shared/engine/session/api-sink';
import { type DeviceLike, RunSession } from '../../src-shared/engine/session/run-session';
import { tf } from '../../src-shared/engine/tf';
import { analyzeRuns } from '../../src-shared/science/analysis';
import { startWorkerHelpers } from './gradient-helpers';
import type { HostRequest, WorkerReply, WorkerRequest } from './protocol';

// Training runs here, off the UI thread. The few parts of the worker's global scope used here
// (the DOM lib, not the WebWorker one, is loaded for the renderer).
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
};

// The build copies the WASM backend's single-threaded binaries to /wasm/, beside /assets/ where this worker
// lives (scripts/build.mjs).
setWasmPaths(new URL(/* @vite-ignore */ '../wasm/', import.meta.url).href);
// WASM computes on this thread alone, in its plain SIMD build: a large enough run gets its share of the cores
// as helper workers instead, each computing a part of every batch (data parallelism, gradient-helpers.ts).
// XNNPACK's pool multi-threads only the matrix products: two of its threads gave gpt-small 1.28-1.31x here,
// where two data-parallel threads give 1.78x.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setThreadsCount(1);

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
    threads: typeof Worker === 'undefined' ? 1 : coreShare(),
  });
  return report;
}

/** The cores this worker may use (at most 8), or in a lane of a queue that trains several runs at once, the
 * share its name gives ("threads=N"). */
function coreShare(): number {
  const share = Number(/\bthreads=(\d+)/.exec(self.name)?.[1]);
  return share > 0 ? share : Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
}

/** Starts the preferred backend, else the first in `order` that starts (training order by default). */
async function useBackend(preference: BackendName | null, order?: BackendName[]): Promise<BackendName> {
  const chosen = order ?? trainingOrder(await probe());
  return selectBackend(preference ?? undefined, chosen);
}

/**
 * What a run records of its backend: the probe's word on its adapter; for WASM, what it computed on (one
 * thread in this worker; helpers, where a run gets them, are in its log), as Node's runs record it.
 */
function detailOf(backend: BackendName): string | null {
  const detail = report?.probes.find((p) => p.backend === backend)?.detail ?? null;
  if (backend !== 'wasm' || detail === null) return detail;
  return `${detail.startsWith('SIMD') ? 'SIMD' : 'no SIMD'}, 1 thread`;
}

// One request at a time in each worker: a probe must not share the GPU with training. (The UI side gives a
// benchmark a worker of its own; see engine.ts.)
let queue: Promise<unknown> = Promise.resolve();
let session: RunSession | null = null;
/** Train requests received and not yet ended, and a stop that came before the run's session existed. */
let trainsPending = 0;
let pendingStop: 'pause' | 'cancel' | null = null;

/** The device tfjs's WebGPU backend trains on; null on the other backends. */
function webGpuDevice(): DeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: DeviceLike }).device ?? null;
}

/** Requests to the UI thread (the session's API calls, a study's pruner), answered by `host-reply`. */
let nextCall = 1;
const calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

function askHost(id: number, request: HostRequest, transfer: Transferable[] = []): Promise<unknown> {
  const call = nextCall++;
  return new Promise((resolve, reject) => {
    calls.set(call, { resolve, reject });
    scope.postMessage({ id, type: 'host', call, request }, transfer);
  });
}

/**
 * Trains one run as a run session: its sink is the API (relayed by the UI thread), its splits and
 * checkpoint are fetched from the data URL, and its backend policy is the app's: WebGPU, and if WebGPU
 * fails mid-run, the next backend in training order from the last checkpoint.
 */
async function train(request: Extract<WorkerRequest, { type: 'train' }>): Promise<void> {
  const order = trainingOrder(await probe());
  const { run, dataset } = request;
  const call: ApiCall = (channel, input) => {
    const weights = channel === 'runs.saveCheckpoint' ? (input as Input<'runs.saveCheckpoint'>).weights : null;
    const transfer = weights && 'bytes' in weights ? [weights.bytes.buffer as ArrayBuffer] : [];
    return askHost(request.id, { kind: 'api', channel, input }, transfer) as never;
  };
  // The same origin serves the page, the worker and the data, over HTTP or the app's own protocol.
  const fetchBytes = async (path: string, what: string) => {
    const response = await fetch(new URL(path, self.location.href));
    if (!response.ok) throw new Error(`Could not read ${what} (HTTP ${response.status}).`);
    return response.arrayBuffer();
  };
  const current = new RunSession({
    run,
    dataset,
    read: (split) => fetchBytes(`/data/datasets/${dataset.id}/${split}.bin`, `the ${split} split of ${dataset.name}`),
    latestCheckpoint: async () => {
      const saved = await call('runs.latestCheckpoint', { id: run.id });
      if (!saved) return null;
      const weights = await fetchBytes(saved.weightsUrl, `the checkpoint of ${run.name}`);
      return decodeCheckpoint(saved.manifest, new Uint8Array(weights));
    },
    sink: apiRunSink(call, run.id, navigator.userAgent.slice(0, 120)),
    backends: {
      start: async () => {
        const backend = await useBackend(request.backend);
        return { backend, adapter: detailOf(backend) };
      },
      fallback: async (failed) => {
        if (failed !== 'webgpu') return null;
        const backend = await useBackend(
          null,
          order.filter((name) => name !== 'webgpu'),
        );
        return { backend, adapter: detailOf(backend) };
      },
      device: webGpuDevice,
      helpers: (backend, spec, seed, batchSize) => startWorkerHelpers(backend, spec, seed, batchSize, coreShare()),
    },
    ...(request.prunes
      ? { prune: async (metrics) => (await askHost(request.id, { kind: 'prune', metrics })) === true }
      : {}),
    onMetrics: (metrics) => scope.postMessage({ id: request.id, type: 'metrics', metrics }),
    loseDeviceAtStep: request.loseWebGpuDeviceAtStep,
  });
  session = current;
  // A stop that came while the run was starting (its backend probed, its session built) applies now.
  if (pendingStop === 'cancel') current.cancel();
  else if (pendingStop === 'pause') current.pause();
  pendingStop = null;
  try {
    scope.postMessage({ id: request.id, type: 'trained', end: await current.run() });
  } finally {
    session = null;
  }
}

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'stop') {
    if (request.as === 'cancel') session?.cancel();
    else session?.pause();
    if (!session && trainsPending > 0) pendingStop = request.as;
    return;
  }
  if (request.type === 'train') trainsPending++;
  if (request.type === 'host-reply') {
    const waiter = calls.get(request.call);
    calls.delete(request.call);
    if (request.ok) waiter?.resolve(request.value);
    else waiter?.reject(new Error(request.message));
    return;
  }
  queue = queue.then(async () => {
    try {
      if (request.type === 'probe') {
        scope.postMessage({ id: request.id, type: 'probe', report: await probe() });
      } else if (request.type === 'bench') {
        const backend = await useBackend(request.backend);
        const { spec, batchSize } = benchSpec(request.model);
        const threads = Math.max(1, Math.min(coreShare(), request.threads ?? coreShare()));
        const helpers = await startWorkerHelpers(backend, spec, 1, batchSize, threads);
        try {
          const result = await benchTraining(request.model, request.steps, request.rounds, helpers);
          scope.postMessage({ id: request.id, type: 'bench', result });
        } finally {
          await helpers?.close();
        }
      } else if (request.type === 'calibrate') {
        await useBackend(request.backend);
        const result = await calibrateSpeed(request.plan, request.batchSize, request.seconds);
        scope.postMessage({ id: request.id, type: 'calibrate', result });
      } else if (request.type === 'train') {
        try {
          await train(request);
        } finally {
          trainsPending--;
          if (trainsPending === 0) pendingStop = null;
        }
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
