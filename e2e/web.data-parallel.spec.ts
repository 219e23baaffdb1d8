import { expect, listRuns, skipOnOneCore, test, watchHelperWorkers } from './fixtures';

// A single run of a model large enough (over 1e9 FLOPs a step) trains data parallel in the app: the training
// worker starts helper workers that each compute a part of every batch, and the run's log says so.
test('a large GPT run on WASM trains data parallel in the app, and its log says so', async ({ page }) => {
  test.setTimeout(420_000);
  const cores = await skipOnOneCore(page);
  const helperWorkers = watchHelperWorkers(page);
  await page.goto('/#/system');
  await expect(page.getByTestId('backend-table')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('training-backend').selectOption('wasm');
  // The language demo is written on the server's first start.
  await expect
    .poll(
      async () =>
        (
          (await (await page.request.post('/api/datasets.list', { data: {} })).json()).value.datasets as Array<{
            id: string;
          }>
        ).some((d) => d.id === 'demo-language'),
      { timeout: 120_000, intervals: [1000] },
    )
    .toBe(true);
  // Queued, not trained: two sizes at 3e11 FLOPs with batches of 32; the larger (157k parameters) takes 125
  // steps of 2.4e9 FLOPs, over the 1e9 a step that data parallelism asks.
  const created = await page.request.post('/api/sweeps.create', {
    data: { datasetId: 'demo-language', budgets: [3e11], sizesPerBudget: 2, batchSize: 32 },
  });
  expect(created.ok()).toBe(true);
  const runs = await listRuns(page);
  const largest = runs.reduce((a, b) => (b.config.plannedSteps < a.config.plannedSteps ? b : a));

  await page.goto('/#/runs');
  const row = page.locator(`tr[data-run-id="${largest.id}"]`);
  await row.getByRole('button', { name: 'Train' }).click();
  await expect
    .poll(async () => (await listRuns(page)).find((r) => r.id === largest.id)?.status, {
      timeout: 240_000,
      intervals: [1000],
    })
    .toBe('completed');
  const run = (await listRuns(page)).find((r) => r.id === largest.id);
  expect(run?.environment.backend).toBe('wasm');
  const threads = Math.min(8, cores);
  expect(run?.log.map((entry) => entry.message)).toContainEqual(
    expect.stringContaining(`Data parallel on ${threads} threads: each batch of 32 is split ${threads} ways`),
  );
  expect(helperWorkers).toHaveLength(threads - 1);
});
