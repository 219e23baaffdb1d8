import type { RunRecord } from '../../src-shared/contract';
import { prunedReason } from '../../src-shared/engine/session/run-status';

/** A run's status as a person reads it: a trial its study's pruner stopped is "pruned", not "cancelled". */
export function statusLabel(run: Pick<RunRecord, 'status' | 'result'>): string {
  return run.status === 'cancelled' && run.result?.reason === prunedReason ? 'pruned' : run.status;
}
