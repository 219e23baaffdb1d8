import { expect, test } from './fixtures';

test('the over-fitting demo trains in the worker, pauses and resumes from its checkpoint, is flagged, and early stopping ends it', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  const api = async (channel: string, data: object) =>
    (await (await page.request.post(`/api/${channel}`, { data })).json()).value;
  await page.goto('/#/runs');
  await page.getByRole('button', { name: 'Over-fitting demo', exact: true }).click();
  const details = page.getByTestId('run-details');
  await expect(details).toBeVisible({ timeout: 30_000 });
  const id = (await details.locator('code').first().textContent()) as string;
  const row = page.locator(`[data-testid="runs-table"] tr[data-run-id="${id}"]`);

  // Pause a little way in: the run stops as interrupted, with a checkpoint at the step it reached.
  await expect
    .poll(async () => ((await api('runs.get', { id })).metrics as unknown[]).length, { timeout: 60_000 })
    .toBeGreaterThanOrEqual(3);
  await page.getByRole('button', { name: /^Pause the queue/ }).click();
  await expect(row.locator('.status')).toHaveText('interrupted', { timeout: 30_000 });
  const paused = await api('runs.get', { id });
  const checkpointStep = paused.run.lastCheckpointStep as number;
  expect(checkpointStep).toBeGreaterThan(0);
  const stepsBefore = (paused.metrics as Array<{ step: number }>).map((m) => m.step);
  expect(Math.max(...stepsBefore)).toBeLessThanOrEqual(checkpointStep);
  await page.screenshot({ path: info.outputPath('overfit-paused.png'), fullPage: true });

  // Resume: it goes on from the checkpoint (the metrics before it stay, none is written twice).
  await row.getByRole('button', { name: 'Resume' }).click();
  await expect(row.locator('.status')).toHaveText('completed', { timeout: 200_000 });
  const done = await api('runs.get', { id });
  const steps = (done.metrics as Array<{ step: number }>).map((m) => m.step);
  expect(steps.slice(0, stepsBefore.length)).toEqual(stepsBefore);
  for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThan(steps[i - 1] as number);
  expect(steps.length).toBeGreaterThan(stepsBefore.length);

  await row.click();
  await expect(page.getByTestId('overfit-verdict')).toContainText('over-fitting');
  await expect(details).toContainText('early stopping');
  await page.screenshot({ path: info.outputPath('overfit-demo.png'), fullPage: true });

  // The slice the demo made is named for what it is, and follows the built-in demos in the list.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Datasets' }).click();
  const list = page.getByRole('list', { name: 'Datasets' }).getByRole('button');
  await expect(list).toHaveCount(3);
  await expect(list.nth(2)).toContainText('Teacher demo, 256 training rows');
  await expect(list.nth(2)).toContainText(/256 training rows of [\d,.]+k?/);
});
