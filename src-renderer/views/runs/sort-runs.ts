import type { RunRecord } from '../../../src-shared/contract';

/** The Runs table's sort: by a column, then (for equal values) by budget, size and name, smallest first. */

export type SortKey =
  | 'status'
  | 'name'
  | 'params'
  | 'tokens'
  | 'tokensPerParam'
  | 'budget'
  | 'finalVal'
  | 'bestVal'
  | 'time';

export const sortValue: Record<SortKey, (run: RunRecord) => number | string> = {
  status: (run) => run.status,
  name: (run) => run.name,
  params: (run) => run.params.total,
  tokens: (run) => run.result?.tokens ?? run.config.plannedTokens,
  tokensPerParam: (run) => run.config.plannedTokens / run.params.total,
  budget: (run) => run.config.budgetFlops,
  finalVal: (run) => run.result?.valLoss ?? Number.POSITIVE_INFINITY,
  bestVal: (run) => run.result?.bestValLoss ?? Number.POSITIVE_INFINITY,
  time: (run) => run.result?.wallSeconds ?? Number.POSITIVE_INFINITY,
};

function compare(x: number | string, y: number | string): number {
  if (typeof x === 'number' && typeof y === 'number') return x === y ? 0 : x < y ? -1 : 1;
  return String(x).localeCompare(String(y));
}

const tieBreaks = [sortValue.budget, sortValue.params, sortValue.name];

/** `runs` sorted by `key` (descending if asked); ties (a sweep's runs at one budget, say) by budget, size and name. */
export function sortRuns(runs: readonly RunRecord[], key: SortKey, descending: boolean): RunRecord[] {
  const value = sortValue[key];
  const sign = descending ? -1 : 1;
  return runs.toSorted(
    (a, b) =>
      sign * compare(value(a), value(b)) || tieBreaks.reduce((order, tie) => order || compare(tie(a), tie(b)), 0),
  );
}
