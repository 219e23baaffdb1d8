import type { DatasetManifest, RunRecord } from '../../src-shared/contract';
import { type BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';
import type { Metrics, TrainResult } from '../../src-shared/engine/trainer';
import type { AnalysisOptions, FrontierAnalysis } from '../../src-shared/science/analysis';
import type { Observation } from '../../src-shared/science/parametric';
import type { WorkerReply, WorkerRequest } from './protocol';

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** The UI thread's handle on the engine worker. */
export interface Engine {
  probeBackends(): Promise<BackendReport>;
  benchTraining(model: BenchModel, steps: number, backend: BackendName | null): Promise<TrainingBench>;
  fit(runs: Observation[], options: AnalysisOptions): Promise<FrontierAnalysis>;
  train(
    run: RunRecord,
    dataset: DatasetManifest,
    backend: BackendName | null,
    onMetrics: (metrics: Metrics) => void,
  ): Promise<{ result: TrainResult & { bestValLoss: number | null }; backend: BackendName; adapter: string | null }>;
  /** Stops the run in training; its train() resolves with status 'stopped'. */
  stop(): void;
}

export function startEngine(): Engine {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'isoflop-engine' });
  let nextId = 1;
  const pending = new Map<number, { resolve(reply: WorkerReply): void; reject(error: Error): void }>();
  const progress = new Map<number, (metrics: Metrics) => void>();
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    if (event.data.type === 'metrics') {
      progress.get(event.data.id)?.(event.data.metrics);
      return;
    }
    progress.delete(event.data.id);
    const waiter = pending.get(event.data.id);
    pending.delete(event.data.id);
    waiter?.resolve(event.data);
  };
  worker.onerror = (event) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`The training worker failed: ${event.message}`));
    pending.clear();
  };
  function request(message: DistributiveOmit<WorkerRequest, 'id'>): Promise<WorkerReply> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  }
  return {
    async probeBackends() {
      const reply = await request({ type: 'probe' });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'probe') throw new Error('The training worker answered out of turn.');
      return BackendReport.parse(reply.report);
    },
    async benchTraining(model, steps, backend) {
      const reply = await request({ type: 'bench', model, steps, backend });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'bench') throw new Error('The training worker answered out of turn.');
      return reply.result;
    },
    async train(run, dataset, backend, onMetrics) {
      const id = nextId;
      progress.set(id, onMetrics);
      const reply = await request({ type: 'train', run, dataset, backend });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'trained') throw new Error('The training worker answered out of turn.');
      return { result: reply.result, backend: reply.backend, adapter: reply.adapter };
    },
    stop() {
      worker.postMessage({ id: 0, type: 'stop' } satisfies WorkerRequest);
    },
    async fit(runs, options) {
      const reply = await request({ type: 'fit', runs, options });
      if (reply.type === 'error') throw new Error(reply.message);
      if (reply.type !== 'fit') throw new Error('The training worker answered out of turn.');
      return reply.analysis;
    },
  };
}
