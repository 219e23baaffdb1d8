import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src-shared/contract';
import { sortRuns } from './sort-runs';

/** The fields the sort reads, for a run of `params` parameters at `budget` FLOPs. */
function run(name: string, budget: number, params: number, valLoss: number | null = null): RunRecord {
  return {
    name,
    status: valLoss === null ? 'queued' : 'completed',
    params: { total: params },
    config: { budgetFlops: budget, plannedTokens: budget / (6 * params) },
    result: valLoss === null ? null : { valLoss, bestValLoss: valLoss, tokens: budget / (6 * params), wallSeconds: 1 },
  } as unknown as RunRecord;
}

describe("the Runs table's sort", () => {
  const runs = [
    run('c', 1e12, 30_000, 1.2),
    run('a', 3e11, 90_000, 1.5),
    run('b', 1e12, 8_000, 1.3),
    run('d', 3e11, 8_000, 1.6),
    run('e', 1e12, 90_000),
  ];

  it('orders a sweep by budget, and the runs of one budget by size', () => {
    expect(sortRuns(runs, 'budget', false).map((r) => r.name)).toEqual(['d', 'a', 'b', 'c', 'e']);
  });

  it('keeps the tie-break ascending when the column is sorted descending', () => {
    expect(sortRuns(runs, 'budget', true).map((r) => r.name)).toEqual(['b', 'c', 'e', 'd', 'a']);
  });

  it('puts runs without a result last by validation loss, in budget and size order among themselves', () => {
    const unfinished = [...runs, run('f', 3e11, 30_000)];
    expect(sortRuns(unfinished, 'finalVal', false).map((r) => r.name)).toEqual(['c', 'b', 'a', 'd', 'f', 'e']);
  });

  it('sorts by name and status as text', () => {
    expect(sortRuns(runs, 'name', true).map((r) => r.name)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(sortRuns(runs, 'status', false).at(-1)?.name).toBe('e');
  });
});
