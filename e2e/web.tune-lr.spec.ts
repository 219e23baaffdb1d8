import { expect, test } from './fixtures';

test('the sweep planner tunes the learning rate per size first, then trains each size at its best rate', async ({
  page,
}, info) => {
  test.setTimeout(400_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto('/#/sweeps');
  await page.getByRole('button', { name: 'New sweep…' }).click();
  const form = page.getByTestId('new-sweep');
  await form.getByTestId('sweep-dataset').selectOption('demo-teacher');
  await form.getByTestId('sweep-budgets').fill('1e6');
  await form.getByLabel('Sizes per budget').fill('2');
  await form.getByTestId('sweep-tune-lr').check();
  await form.getByRole('button', { name: 'Plan' }).click();
  await expect(form.getByTestId('sweep-lr-note')).toContainText('for each of the 2 sizes, 5 learning rates');
  const studiesBefore = (await (await page.request.post('/api/studies.list', { data: {} })).json()).value.length;
  await form.getByRole('button', { name: /Tune, then start the sweep \(2 runs\)/ }).click();
  await expect(form.getByTestId('sweep-lr-progress')).toContainText('size 1 of 2', { timeout: 30_000 });
  await page.screenshot({ path: info.outputPath('tuning.png') });
  const details = page.getByTestId('sweep-details');
  await expect(details).toContainText('2 of 2 completed', { timeout: 360_000 });
  const studies = (await (await page.request.post('/api/studies.list', { data: {} })).json()).value;
  expect(studies.length - studiesBefore).toBe(2);
  const runs = (await (await page.request.post('/api/runs.list', { data: {} })).json()).value.runs as Array<{
    sweepId: string | null;
    studyId: string | null;
    params: { total: number };
    config: { peakLearningRate: number; budgetFlops: number };
    status: string;
  }>;
  const sweepId = (await details.locator('code.id').first().textContent()) as string;
  const swept = runs.filter((run) => run.sweepId === sweepId);
  expect(swept).toHaveLength(2);
  // Each size trains at the best rate of its own search.
  for (const run of swept) {
    const trials = runs.filter(
      (trial) => trial.studyId !== null && trial.params.total === run.params.total && trial.status === 'completed',
    );
    expect(trials.length).toBeGreaterThanOrEqual(1);
    expect(trials.map((trial) => trial.config.peakLearningRate)).toContain(run.config.peakLearningRate);
  }
  // The sweep's table shows each run's rate.
  await expect(details.getByTestId('run-lr')).toHaveCount(2);
  for (const run of swept)
    await expect(
      details
        .getByTestId('run-lr')
        .filter({ hasText: run.config.peakLearningRate.toExponential(1) })
        .first(),
    ).toBeVisible();
  await page.screenshot({ path: info.outputPath('tuned-sweep.png') });
});
