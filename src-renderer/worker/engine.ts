import type { DatasetManifest, MetricRow, PlannedRun, RunRecord } from '../../src-shared/contract';
import type { Input } from '../../src-shared/contract/api';
import { type BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';
import type { Calibration } from '../../src-shared/engine/calibrate';
import type { RunEnd } from '../../src-shared/engine/session/run-status';
import type { AnalysisOptions, FrontierAnalysis, RunObservation } from '../../src-shared/science/analysis';
import type { ApiClient } from '../lib/transport/transport';
import type { HostRequest, WorkerReply, WorkerRequest } from './protocol';

/** What the UI thread does for a run training in the worker: show its progress, answer its session's requests. */
interface TrainHost {
  onMetrics(metrics: MetricRow): void;
  serve(request: HostRequest): Promise<unknown>;
}

async function withPreparedWeights(
  input: Input<'runs.saveCheckpoint'>,
  client: Pick<ApiClient, 'prepareBytes'>,
): Promise<Input<'runs.saveCheckpoint'>> {
  const { weights } = input;
  return 'bytes' in weights ? { ...input, weights: await client.prepareBytes(weights.bytes) } : input;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export interface TrainOptions {
  backend: BackendName | null;
  /** the API the run session's sink and checkpoint reads go to (the app's client) */
  client: Pick<ApiClient, 'call' | 'prepareBytes'>;
  onMetrics(metrics: MetricRow): void;
  /** after each evaluation: true stops the run as cancelled (a study's pruner) */
  prune?(metrics: MetricRow): Promise<boolean>;
  /** fault injection (tests): destroy the WebGPU device once training passes this step */
  loseWebGpuDeviceAtStep?: number | null;
  /**
   * How many runs the queue trains at once: above one, each trains in a worker of its own (a lane), whose
   * WASM computes on its share of the cores; one trains in the training worker.
   */
  lanes?: number;
}

/** The UI thread's handle on the engine worker. */
export interface Engine {
  probeBackends(): Promise<BackendReport>;
  /** `threads`: the threads the engine's loop may use (data parallelism), all the cores when absent */
  benchTraining(
    model: BenchModel,
    steps: number,
    rounds: number,
    backend: BackendName | null,
    threads?: number,
  ): Promise<TrainingBench>;
  /** a few seconds of the plan's smallest and largest models on `backend`, in the benchmark worker */
  calibrate(plan: PlannedRun[], batchSize: number, backend: BackendName, seconds: number): Promise<Calibration>;
  fit(runs: RunObservation[], options: AnalysisOptions): Promise<FrontierAnalysis>;
  /**
   * Trains a run in the worker as a run session, which records its start, metrics, checkpoints and end
   * through `client`; resolves with how it ended. Rejects only if it could not start (nothing recorded).
   */
  train(run: RunRecord, dataset: DatasetManifest, options: TrainOptions): Promise<RunEnd>;
  /** Stops a run in training at its next step, or every run training: paused (interrupted, to resume) or cancelled. */
  stop(as: 'pause' | 'cancel', runId?: string): void;
}

/** A worker and the requests in flight to it, each answered by the reply with its id. */
function connect(name: string, label: string) {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name });
  let nextId = 1;
  const pending = new Map<number, { resolve(reply: WorkerReply): void; reject(error: Error): void }>();
  const progress = new Map<number, TrainHost>();
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    const reply = event.data;
    if (reply.type === 'metrics') {
      progress.get(reply.id)?.onMetrics(reply.metrics);
      return;
    }
    if (reply.type === 'host') {
      const host = progress.get(reply.id);
      const answer = (message: WorkerRequest) => worker.postMessage(message);
      Promise.resolve(host ? host.serve(reply.request) : Promise.reject(new Error('no run is training')))
        .then((value) => answer({ id: 0, type: 'host-reply', call: reply.call, ok: true, value }))
        .catch((error: unknown) =>
          answer({
            id: 0,
            type: 'host-reply',
            call: reply.call,
            ok: false,
            message: error instanceof Error ? error.message : String(error),
          }),
        );
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
    request(message: DistributiveOmit<WorkerRequest, 'id'>, hooks?: TrainHost): Promise<WorkerReply> {
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
  /** The workers that train a queue's runs side by side (`lanes` above one), and the run each trains now. */
  const lanes: Array<{ connection: ReturnType<typeof connect>; runId: string | null; threads: number }> = [];
  /** The training worker and the run it trains now. */
  const primary = { connection: training, runId: null as string | null };
  /** An idle lane, started if the queue has fewer than `count`; its WASM gets its share of the cores. */
  function laneFor(count: number) {
    const cores = Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
    const threads = Math.max(1, Math.floor(cores / count));
    // Idle lanes started for another number of lanes have another share of the cores: they go.
    for (const lane of lanes.filter((l) => l.runId === null && l.threads !== threads)) dropLane(lane);
    const idle = lanes.find((lane) => lane.runId === null);
    if (idle) return idle;
    const lane = {
      connection: connect(`isoflop-engine-lane-${nextLane++} threads=${threads}`, 'training'),
      runId: null as string | null,
      threads,
    };
    lanes.push(lane);
    return lane;
  }
  let nextLane = 1;
  function dropLane(lane: (typeof lanes)[number]) {
    lanes.splice(lanes.indexOf(lane), 1);
    lane.connection.worker.terminate();
  }
  let bench: ReturnType<typeof connect> | null = null;
  let analysis: ReturnType<typeof connect> | null = null;
  /** A request in the benchmark worker, which measurements share so they never wait behind a sweep. */
  async function inBenchWorker(
    request: DistributiveOmit<WorkerRequest, 'id'>,
    backendOf: (reply: WorkerReply) => string | null,
  ): Promise<WorkerReply> {
    bench ??= connect('isoflop-bench', 'benchmark');
    const worker = bench;
    let keep = false;
    try {
      const reply = await worker.request(request);
      if (reply.type === 'error') throw new Error(reply.message);
      keep = backendOf(reply) !== 'webgpu';
      return reply;
    } finally {
      // After WebGPU (or a failure) the worker goes, and its device with it. Otherwise it stays for the
      // next measurement, its WASM compiled.
      if (!keep) {
        worker.worker.terminate();
        if (bench === worker) bench = null;
      }
    }
  }
  return {
    async probeBackends() {
      const reply = await training.request({ type: 'probe' });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'probe') throw new Error('The training worker answered out of turn.');
      return BackendReport.parse(reply.report);
    },
    async benchTraining(model, steps, rounds, backend, threads) {
      const reply = await inBenchWorker({ type: 'bench', model, steps, rounds, backend, threads }, (r) =>
        r.type === 'bench' ? r.result.engine.backend : null,
      );
      if (reply.type !== 'bench') throw new Error('The benchmark worker answered out of turn.');
      return reply.result;
    },
    async calibrate(plan, batchSize, backend, seconds) {
      const reply = await inBenchWorker({ type: 'calibrate', plan, batchSize, backend, seconds }, (r) =>
        r.type === 'calibrate' ? r.result.backend : null,
      );
      if (reply.type !== 'calibrate') throw new Error('The benchmark worker answered out of turn.');
      return reply.result;
    },
    async train(run, dataset, { backend, client, onMetrics, prune, loseWebGpuDeviceAtStep, lanes: count = 1 }) {
      const serve = async (request: HostRequest): Promise<unknown> => {
        if (request.kind === 'prune') return prune ? prune(request.metrics) : false;
        // Checkpoint weights cross as bytes over IPC, and are uploaded first in web mode.
        const input =
          request.channel === 'runs.saveCheckpoint'
            ? await withPreparedWeights(request.input as Input<'runs.saveCheckpoint'>, client)
            : request.input;
        return client.call(request.channel, input as never);
      };
      const worker = count > 1 ? laneFor(count) : primary;
      worker.runId = run.id;
      let reply: WorkerReply;
      try {
        reply = await worker.connection.request(
          {
            type: 'train',
            run,
            dataset,
            backend,
            prunes: prune !== undefined,
            loseWebGpuDeviceAtStep: loseWebGpuDeviceAtStep ?? null,
          },
          { onMetrics, serve },
        );
      } catch (error) {
        // The lane's worker failed (not the run, which answers with an error): it is not used again.
        if (worker !== primary) dropLane(worker as (typeof lanes)[number]);
        throw error;
      } finally {
        worker.runId = null;
      }
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'trained') throw new Error('The training worker answered out of turn.');
      return reply.end;
    },
    stop(as, runId) {
      for (const worker of [primary, ...lanes]) {
        if (runId === undefined ? worker.runId === null && worker !== primary : worker.runId !== runId) continue;
        worker.connection.worker.postMessage({ id: 0, type: 'stop', as } satisfies WorkerRequest);
      }
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
