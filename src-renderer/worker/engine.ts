import type { CheckpointManifest, DatasetManifest, RunRecord } from '../../src-shared/contract';
import { type BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';
import type { Metrics, TrainResult } from '../../src-shared/engine/trainer';
import type { AnalysisOptions, FrontierAnalysis, RunObservation } from '../../src-shared/science/analysis';
import type { WorkerReply, WorkerRequest } from './protocol';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export interface TrainOptions {
  backend: BackendName | null;
  /** a checkpoint to resume from */
  resume: { manifest: CheckpointManifest; weightsUrl: string } | null;
  onMetrics(metrics: Metrics): void;
  /** each checkpoint, the last one (the final weights) included, before train() resolves */
  onCheckpoint(manifest: CheckpointManifest, weights: Uint8Array): void;
  /** WebGPU failed mid-run and training goes on with `backend` from the checkpoint at `fromStep` */
  onFallback(fallback: { backend: BackendName; adapter: string | null; fromStep: number; message: string }): void;
  /** fault injection (tests): destroy the WebGPU device once training passes this step */
  loseWebGpuDeviceAtStep?: number | null;
}

/** The UI thread's handle on the engine worker. */
export interface Engine {
  probeBackends(): Promise<BackendReport>;
  benchTraining(model: BenchModel, steps: number, rounds: number, backend: BackendName | null): Promise<TrainingBench>;
  fit(runs: RunObservation[], options: AnalysisOptions): Promise<FrontierAnalysis>;
  train(
    run: RunRecord,
    dataset: DatasetManifest,
    options: TrainOptions,
  ): Promise<{ result: TrainResult & { bestValLoss: number | null }; backend: BackendName; adapter: string | null }>;
  /** Stops the run in training; its train() resolves with status 'stopped'. */
  stop(): void;
}

/** A worker and the requests in flight to it, each answered by the reply with its id. */
function connect(name: string, label: string) {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name });
  let nextId = 1;
  const pending = new Map<number, { resolve(reply: WorkerReply): void; reject(error: Error): void }>();
  const progress = new Map<number, Pick<TrainOptions, 'onMetrics' | 'onCheckpoint' | 'onFallback'>>();
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    const reply = event.data;
    if (reply.type === 'metrics') {
      progress.get(reply.id)?.onMetrics(reply.metrics);
      return;
    }
    if (reply.type === 'checkpoint') {
      progress.get(reply.id)?.onCheckpoint(reply.manifest, reply.weights);
      return;
    }
    if (reply.type === 'fallback') {
      const { backend, adapter, fromStep, message } = reply;
      progress.get(reply.id)?.onFallback({ backend, adapter, fromStep, message });
      return;
    }
    progress.delete(event.data.id);
    const waiter = pending.get(event.data.id);
    pending.delete(event.data.id);
    waiter?.resolve(event.data);
  };
  worker.onerror = (event) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`The ${label} worker failed: ${event.message}`));
    pending.clear();
  };
  return {
    worker,
    request(
      message: DistributiveOmit<WorkerRequest, 'id'>,
      hooks?: Pick<TrainOptions, 'onMetrics' | 'onCheckpoint' | 'onFallback'>,
    ): Promise<WorkerReply> {
      const id = nextId++;
      if (hooks) progress.set(id, hooks);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ ...message, id });
      });
    },
  };
}

/**
 * The training worker, which takes one request at a time; benchmarks get a worker of their own, and so
 * do fits. A benchmark must neither wait behind a sweep that trains for hours nor touch the device
 * training uses: on WebGPU the naive loop's synchronous reads leave Chromium's device unable to map
 * buffers, and a run that came after a benchmark in the same worker fell back to WebGL.
 */
export function startEngine(): Engine {
  const training = connect('isoflop-engine', 'training');
  let bench: ReturnType<typeof connect> | null = null;
  let analysis: ReturnType<typeof connect> | null = null;
  return {
    async probeBackends() {
      const reply = await training.request({ type: 'probe' });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'probe') throw new Error('The training worker answered out of turn.');
      return BackendReport.parse(reply.report);
    },
    async benchTraining(model, steps, rounds, backend) {
      bench ??= connect('isoflop-bench', 'benchmark');
      const worker = bench;
      let keep = false;
      try {
        const reply = await worker.request({ type: 'bench', model, steps, rounds, backend });
        if (reply.type === 'error') throw new Error(reply.message);
        if (reply.type !== 'bench') throw new Error('The benchmark worker answered out of turn.');
        keep = reply.result.engine.backend !== 'webgpu';
        return reply.result;
      } finally {
        // After WebGPU (or a failure) the worker goes, and its device with it. Otherwise it stays for the
        // next benchmark: ending a worker that started WASM's threads costs the UI thread a 55-80 ms task.
        if (!keep) {
          worker.worker.terminate();
          if (bench === worker) bench = null;
        }
      }
    },
    async train(run, dataset, { backend, resume, onMetrics, onCheckpoint, onFallback, loseWebGpuDeviceAtStep }) {
      const reply = await training.request(
        { type: 'train', run, dataset, backend, resume, loseWebGpuDeviceAtStep: loseWebGpuDeviceAtStep ?? null },
        { onMetrics, onCheckpoint, onFallback },
      );
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'trained') throw new Error('The training worker answered out of turn.');
      return { result: reply.result, backend: reply.backend, adapter: reply.adapter };
    },
    stop() {
      training.worker.postMessage({ id: 0, type: 'stop' } satisfies WorkerRequest);
    },
    async fit(runs, options) {
      // Fitting needs no GPU: beside training, not queued behind the run in progress.
      analysis ??= connect('isoflop-analysis', 'analysis');
      const reply = await analysis.request({ type: 'fit', runs, options });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'fit') throw new Error('The analysis worker answered out of turn.');
      return reply.analysis;
    },
  };
}
