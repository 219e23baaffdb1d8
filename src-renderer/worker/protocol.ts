import type { BackendName, BackendReport } from '../../src-shared/contract/backend';
import type { BenchModel, TrainingBench } from '../../src-shared/engine/bench';
import type { AnalysisOptions, FrontierAnalysis } from '../../src-shared/science/analysis';
import type { Observation } from '../../src-shared/science/parametric';

/** Messages between the UI thread and the engine worker. */
export type WorkerRequest =
  | { id: number; type: 'probe' }
  | { id: number; type: 'bench'; model: BenchModel; steps: number; backend: BackendName | null }
  | { id: number; type: 'fit'; runs: Observation[]; options: AnalysisOptions };

export type WorkerReply =
  | { id: number; type: 'probe'; report: BackendReport }
  | { id: number; type: 'bench'; result: TrainingBench }
  | { id: number; type: 'fit'; analysis: FrontierAnalysis }
  | { id: number; type: 'error'; message: string };
