import type { CheckpointManifest, DatasetManifest, RunRecord } from '../../src-shared/contract';
import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';
import type { Metrics, TrainResult } from '../../src-shared/engine/trainer';
import type { AnalysisOptions, FrontierAnalysis, RunObservation } from '../../src-shared/science/analysis';

/** Messages between the UI thread and the engine worker. */
export type WorkerRequest =
  | { id: number; type: 'probe' }
  | { id: number; type: 'bench'; model: BenchModel; steps: number; rounds: number; backend: BackendName | null }
  | { id: number; type: 'fit'; runs: RunObservation[]; options: AnalysisOptions }
  | {
      id: number;
      type: 'train';
      run: RunRecord;
      dataset: DatasetManifest;
      backend: BackendName | null;
      /** the checkpoint to resume from: its model.json, and where to fetch weights.bin */
      resume: { manifest: CheckpointManifest; weightsUrl: string } | null;
      /** fault injection (tests): destroy the WebGPU device once training passes this step */
      loseWebGpuDeviceAtStep: number | null;
    }
  /** Stops the run in training now (not queued behind it). */
  | { id: number; type: 'stop' };

export type WorkerReply =
  | { id: number; type: 'probe'; report: BackendReport }
  | { id: number; type: 'bench'; result: TrainingBench }
  | { id: number; type: 'fit'; analysis: FrontierAnalysis }
  | { id: number; type: 'metrics'; metrics: Metrics }
  /** a checkpoint of the run in training, for the main side to store */
  | { id: number; type: 'checkpoint'; manifest: CheckpointManifest; weights: Uint8Array }
  /** WebGPU failed mid-run: training goes on with `backend` from the checkpoint at `fromStep` (0: the start) */
  | { id: number; type: 'fallback'; backend: BackendName; adapter: string | null; fromStep: number; message: string }
  | {
      id: number;
      type: 'trained';
      result: TrainResult & { bestValLoss: number | null };
      backend: BackendName;
      adapter: string | null;
    }
  | { id: number; type: 'error'; message: string };
