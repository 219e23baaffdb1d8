import { expect, test } from './fixtures';

// Planning and running a sweep in the app: the worker trains, the view follows it live.
test('plans a tiny sweep in the app, trains it in the worker and shows it live', async ({ page }, info) => {
  test.setTimeout(300_000);
  await page.goto('/#/sweeps');
  await page.getByRole('button', { name: 'New sweep…' }).click();
  const form = page.getByTestId('new-sweep');
  await form.getByTestId('sweep-dataset').selectOption('demo-teacher');
  await form.getByTestId('sweep-budgets').fill('1e6,3e6');
  await form.getByLabel('Sizes per budget').fill('3');
  // The batch the planner's warnings talk about is on the form.
  await expect(form.getByTestId('sweep-batch')).toHaveAttribute('placeholder', 'auto');
  await form.getByTestId('sweep-batch').fill('32');
  // Regularization for every run of the sweep.
  await form.getByTestId('sweep-regularization').locator('summary').click();
  await form.getByTestId('sweep-weight-decay').fill('0.01');
  await form.getByRole('button', { name: 'Plan' }).click();
  const planned = form.getByTestId('sweep-plan').locator('tbody tr');
  await expect(planned.first()).toBeVisible();
  const count = await planned.count();
  expect(count).toBeGreaterThanOrEqual(4);
  // No run has finished here yet: a few seconds of timing the smallest and largest models give the estimate.
  await expect(form.getByTestId('sweep-calibrated')).toContainText(
    /About .* in all on webgl, from [\d.]+ s of timing/,
    {
      timeout: 60_000,
    },
  );
  await expect(planned.first().locator('td').nth(6)).toHaveText(/\d+(s|m)/);
  await page.screenshot({ path: info.outputPath('planner.png') });
  await form.getByRole('button', { name: /Start sweep/ }).click();
  const live = page.getByTestId('training-now');
  await expect(live).toBeVisible({ timeout: 30_000 });
  await expect(live.getByRole('progressbar').first()).toBeVisible();
  // The sweep's own progress: runs done of all, and (once a speed is measured) about how long is left.
  await expect(live.getByTestId('queue-progress')).toContainText(`of ${count} runs`);
  await expect(live.getByTestId('queue-progress')).toContainText(/about .* left/, { timeout: 30_000 });
  await page.screenshot({ path: info.outputPath('live.png') });
  // Close and reopen mid-sweep: the queue picks up where it was.
  await page.reload();
  await expect(page.getByTestId('queue-notice')).toContainText('where it was when IsoFLOP closed', { timeout: 30_000 });
  await expect(live).toBeVisible({ timeout: 30_000 });
  await expect(live).toBeHidden({ timeout: 240_000 });
  const details = page.getByTestId('sweep-details');
  await expect(details).toContainText(`${count} of ${count} completed`, { timeout: 20_000 });
  // A notice says the sweep has finished, and offers the fit.
  const finished = page.getByTestId('sweep-finished');
  await expect(finished).toContainText(`has finished: ${count} of ${count} runs completed`);
  await expect(page.getByTestId('queue-notice')).toBeHidden();
  await page.screenshot({ path: info.outputPath('finished.png') });
  const runs = await (await page.request.post('/api/runs.list', { data: {} })).json();
  const appRuns = runs.value.runs.filter(
    (run: { environment: { backend: string } | null }) => run.environment?.backend === 'webgl',
  );
  expect(appRuns.length).toBeGreaterThanOrEqual(count);
  const sweepId = (await details.locator('code.id').first().textContent()) as string;
  const swept = runs.value.runs.filter((run: { sweepId: string | null }) => run.sweepId === sweepId);
  expect(swept).toHaveLength(count);
  for (const run of swept) expect(run.config.weightDecay).toBe(0.01);
  for (const run of swept) expect(run.config.batchSize).toBe(32);
  // The adapter the worker found is recorded with each run.
  for (const run of appRuns) expect(run.environment.adapter).toMatch(/\S/);

  // The next plan estimates each run's time from the speed these runs reached on this backend.
  await page.getByRole('button', { name: 'New sweep…' }).click();
  await form.getByTestId('sweep-dataset').selectOption('demo-teacher');
  await form.getByTestId('sweep-budgets').fill('1e7,3e7');
  await form.getByRole('button', { name: 'Plan' }).click();
  await expect(form.getByTestId('sweep-estimate')).toContainText(/About .* in all on webgl/);
  await expect(form.getByTestId('sweep-plan').locator('tbody tr').first().locator('td').nth(6)).toHaveText(/\d+(s|m)/);
  await page.screenshot({ path: info.outputPath('planner-estimate.png') });

  await form.getByRole('button', { name: 'Cancel' }).click();
  await finished.getByRole('button', { name: 'Fit it on the Frontier' }).click();
  await expect(page.getByTestId('frontier-source')).toContainText(`${count} completed runs`, { timeout: 60_000 });
});
