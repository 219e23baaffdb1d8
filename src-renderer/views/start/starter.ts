import type { Input } from '../../../src-shared/contract/api';

/**
 * The sweep the Start view trains in one click: the teacher demo at three small budgets, four sizes each.
 * Small enough to finish in a minute or two on a laptop, large enough for a fit (12 runs, 3 budgets).
 */
export const starterSweep = {
  datasetId: 'demo-teacher',
  budgets: [1e6, 3e6, 1e7],
  sizesPerBudget: 4,
  regularization: {},
} satisfies Input<'sweeps.create'>;
