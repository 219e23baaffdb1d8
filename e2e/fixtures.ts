import { test as base, expect, type Page } from '@playwright/test';

/** A spec's `test` whose page fails the test on any uncaught error in the page. */
export const test = base.extend({
  page: async ({ page }, use) => {
    page.on('pageerror', (error) => {
      throw error;
    });
    await use(page);
  },
});

export { expect };

/** A run as the API lists it, with the fields the specs read. */
export interface ListedRun {
  id: string;
  sweepId: string | null;
  status: string;
  config: { budgetFlops: number; plannedSteps: number };
  environment: { backend: string };
  log: Array<{ message: string }>;
}

export async function listRuns(page: Page): Promise<ListedRun[]> {
  return (await (await page.request.post('/api/runs.list', { data: {} })).json()).value.runs;
}

/**
 * Waits until the sweep run that was not in `before` (ids listed before the sweep started) completes, and
 * returns it. The store is shared by the specs, so an earlier one's runs (the same budget, say) are there too.
 */
export async function newSweepRunCompleted(page: Page, before: Set<string>): Promise<ListedRun> {
  const find = async () => (await listRuns(page)).find((r) => r.sweepId !== null && !before.has(r.id));
  await expect.poll(async () => (await find())?.status, { timeout: 200_000, intervals: [1000] }).toBe('completed');
  return (await find()) as ListedRun;
}
