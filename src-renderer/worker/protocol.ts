import type { DatasetManifest, MetricRow, PlannedRun, RunRecord } from '../../src-shared/contract';
import type { Channel } from '../../src-shared/contract/api';
import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';
import type { Calibration } from '../../src-shared/engine/calibrate';
import type { RunEnd } from '../../src-shared/engine/session/run-status';
import type { AnalysisOptions, FrontierAnalysis, RunObservation } from '../../src-shared/science/analysis';

/**
 * Messages between the UI thread and the engine worker. A run trains in the worker as a run session
 * (src-shared/engine/session); what the session asks of its host (API calls for its sink, a study's
 * pruner) comes to the UI thread as a `host` request, answered by a `host-reply` with the same `call`.
 */
export type HostRequest = { kind: 'api'; channel: Channel; input: unknown } | { kind: 'prune'; metrics: MetricRow };

export type WorkerRequest =
  | { id: number; type: 'probe' }
  | {
      id: number;
      type: 'bench';
      model: BenchModel;
      steps: number;
      rounds: number;
      backend: BackendName | null;
      /** threads for the engine's loop (data parallelism, where the model's steps are large enough); all the
       * worker's cores when absent */
      threads?: number;
    }
  | { id: number; type: 'fit'; runs: RunObservation[]; options: AnalysisOptions }
  /** a few seconds of the plan's smallest and largest models: time estimates before any run has finished */
  | { id: number; type: 'calibrate'; plan: PlannedRun[]; batchSize: number; backend: BackendName; seconds: number }
  | {
      id: number;
      type: 'train';
      run: RunRecord;
      dataset: DatasetManifest;
      backend: BackendName | null;
      /** the host answers `prune` requests after each evaluation (a study's trial) */
      prunes: boolean;
      /** fault injection (tests): destroy the WebGPU device once training passes this step */
      loseWebGpuDeviceAtStep: number | null;
    }
  /** Stops the run in training now (not queued behind it): paused (to resume) or cancelled. */
  | { id: number; type: 'stop'; as: 'pause' | 'cancel' }
  | { id: number; type: 'host-reply'; call: number; ok: true; value: unknown }
  | { id: number; type: 'host-reply'; call: number; ok: false; message: string };

export type WorkerReply =
  | { id: number; type: 'probe'; report: BackendReport }
  | { id: number; type: 'bench'; result: TrainingBench }
  | { id: number; type: 'calibrate'; result: Calibration }
  | { id: number; type: 'fit'; analysis: FrontierAnalysis }
  | { id: number; type: 'metrics'; metrics: MetricRow }
  | { id: number; type: 'host'; call: number; request: HostRequest }
  /** the run session ended (its end is recorded already, through the sink) */
  | { id: number; type: 'trained'; end: RunEnd }
  | { id: number; type: 'error'; message: string };
