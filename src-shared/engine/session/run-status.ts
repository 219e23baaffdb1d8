import { IsoflopError } from '../../contract/isoflop-error';
import type { RunRecord, RunStatus } from '../../contract/runs';

/**
 * A run's one state machine. Every status change, by whichever host or handler, goes through
 * `checkTransition` (the run store calls it on every update):
 *
 *   queued ──► running ──► completed | diverged | failed | cancelled | interrupted
 *     │           ▲ └─► running (a backend failed mid-run and another goes on)
 *     │           └──────── interrupted (resume) ─► cancelled | failed
 *     └─► cancelled | failed (it could not start)
 *   completed | diverged | failed | cancelled | interrupted ─► queued (re-run from step 0)
 */
export const runTransitions: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['running', 'completed', 'diverged', 'failed', 'cancelled', 'interrupted'],
  interrupted: ['running', 'cancelled', 'failed', 'queued'],
  completed: ['queued'],
  diverged: ['queued'],
  failed: ['queued'],
  cancelled: ['queued'],
};

/** The reason a run records when its study's pruner stopped it (the views show it as pruned). */
export const prunedReason = 'pruned by its study';

/** How a run's training ended, as its session reports it. */
export type RunEndStatus = Exclude<RunStatus, 'queued' | 'running'>;
export type RunResult = NonNullable<RunRecord['result']>;
export interface RunEnd {
  status: RunEndStatus;
  result: RunResult | null;
  error: string | null;
}

export function canMove(from: RunStatus, to: RunStatus): boolean {
  return from === to || runTransitions[from].includes(to);
}

/** Throws CONFLICT, naming the run, when its status may not go from `from` to `to`. */
export function checkTransition(name: string, from: RunStatus, to: RunStatus): void {
  if (canMove(from, to)) return;
  const allowed = runTransitions[from].join(', ');
  throw new IsoflopError(
    'CONFLICT',
    `Run ${name} is ${from}; it cannot become ${to} (from ${from} it may become ${allowed}).`,
  );
}

/** Waiting to train: queued, or stopped part-way and resumable from its checkpoint. */
export function isWaiting(status: RunStatus): boolean {
  return status === 'queued' || status === 'interrupted';
}

/** Finished for good (until re-run): nothing left to train. */
export function isFinal(status: RunStatus): boolean {
  return status === 'completed' || status === 'diverged' || status === 'failed' || status === 'cancelled';
}
