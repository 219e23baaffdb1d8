import { test as base, expect, type Locator, type Page } from '@playwright/test';

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

/**
 * Opens This computer and makes WebGPU the backend new runs train on; returns the backend table. Skips the
 * test where the browser has no WebGPU adapter: there is nothing WebGPU to test there.
 */
export async function chooseWebGpuOrSkip(page: Page): Promise<Locator> {
  await page.goto('/#/system');
  const table = page.getByTestId('backend-table');
  await expect(table).toBeVisible({ timeout: 30_000 });
  test.skip(
    (await table.locator('tr[data-backend="webgpu"] .tag').textContent()) === 'unavailable',
    'this browser has no WebGPU adapter',
  );
  await page.getByTestId('training-backend').selectOption('webgpu');
  return table;
}

/** Plans a one-run sweep of demo-teacher at `budget` FLOPs and starts it; returns the run ids there before it. */
export async function startOneRunSweep(page: Page, budget: string): Promise<Set<string>> {
  await page.getByRole('button', { name: 'New sweep…' }).click();
  const form = page.getByTestId('new-sweep');
  await form.getByTestId('sweep-dataset').selectOption('demo-teacher');
  await form.getByTestId('sweep-budgets').fill(budget);
  await form.getByLabel('Sizes per budget').fill('1');
  await form.getByRole('button', { name: 'Plan' }).click();
  await expect(form.getByTestId('sweep-plan').locator('tbody tr')).toHaveCount(1);
  const before = new Set((await listRuns(page)).map((r) => r.id));
  await form.getByRole('button', { name: /Start sweep/ }).click();
  return before;
}
