import type { BackendReport } from '../../src-shared/contract/backend';

/** Messages between the UI thread and the engine worker. */
export type WorkerRequest = { id: number; type: 'probe' };
export type WorkerReply =
  | { id: number; type: 'probe'; report: BackendReport }
  | { id: number; type: 'error'; message: string };
