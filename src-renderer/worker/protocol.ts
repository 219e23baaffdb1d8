import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';

/** Messages between the UI thread and the engine worker. */
export type WorkerRequest =
  | { id: number; type: 'probe' }
  | { id: number; type: 'bench'; model: BenchModel; steps: number; backend: BackendName | null };

export type WorkerReply =
  | { id: number; type: 'probe'; report: BackendReport }
  | { id: number; type: 'bench'; result: TrainingBench }
  | { id: number; type: 'error'; message: string };
