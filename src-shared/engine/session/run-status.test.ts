import { describe, expect, it } from 'vitest';
import { RunStatus } from '../../contract/runs';
import { canMove, checkTransition, runTransitions } from './run-status';

describe('run state machine', () => {
  it('lets a run train, end, resume and re-run, and refuses the rest, naming what is allowed', () => {
    expect(canMove('queued', 'running')).toBe(true);
    expect(canMove('running', 'interrupted')).toBe(true);
    expect(canMove('interrupted', 'running')).toBe(true);
    expect(canMove('completed', 'queued')).toBe(true);
    expect(canMove('queued', 'completed')).toBe(false);
    expect(canMove('completed', 'running')).toBe(false);
    expect(canMove('cancelled', 'interrupted')).toBe(false);
    expect(() => checkTransition('r1', 'completed', 'running')).toThrow(
      'Run r1 is completed; it cannot become running (from completed it may become queued).',
    );
  });

  it('gives every status a way back to training, and ends only through running', () => {
    for (const status of RunStatus.options) {
      expect(runTransitions[status].length, status).toBeGreaterThan(0);
      expect(canMove(status, 'running') || canMove(status, 'queued'), status).toBe(true);
      for (const end of ['completed', 'diverged'] as const)
        expect(canMove(status, end), `${status} → ${end}`).toBe(status === 'running' || status === end);
    }
  });
});
