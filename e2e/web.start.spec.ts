import { expect, test } from './fixtures';

// A newcomer's first hour: from the Start view to a fitted frontier without leaving the app.
test('starts on the path from data to report, and one click trains the teacher sweep through to a fit', async ({
  page,
}, info) => {
  test.setTimeout(300_000);
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Start' })).toBeVisible();
  const path = page.getByTestId('start-path');
  for (const step of ['Data', 'Sweep', 'Frontier', 'Report']) {
    await expect(path.getByRole('heading', { level: 2, name: step })).toBeVisible();
  }
  await expect(page.getByTestId('start-data')).toContainText('2 datasets in this data folder', { timeout: 60_000 });
  await expect(page.getByTestId('start-fit')).toBeDisabled();
  await page.screenshot({ path: info.outputPath('start.png'), fullPage: true });

  // One click: the teacher sweep is created and trains in the worker, and the Sweeps view follows it.
  await page.getByTestId('start-teacher-sweep').click();
  await expect(page).toHaveURL(/#\/sweeps$/);
  const live = page.getByTestId('training-now');
  await expect(live).toBeVisible({ timeout: 30_000 });
  await expect(live.getByTestId('queue-progress')).toContainText('of 12 runs');
  const finished = page.getByTestId('sweep-finished');
  await expect(finished).toContainText('has finished: 12 of 12 runs completed', { timeout: 240_000 });
  // The notice carries the one-line result: the fitted optimum at the sweep's largest budget.
  await expect(finished.getByTestId('sweep-headline')).toContainText(
    /optimum ≈ \S+ parameters and \S+ rows at 1e7 FLOPs/,
    {
      timeout: 60_000,
    },
  );
  await page.screenshot({ path: info.outputPath('sweep-finished.png') });

  // Back on Start, the path says where things stand, and the fit is one click away.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Start' }).click();
  await expect(page.getByTestId('start-sweep')).toContainText('has 12 of 12 runs completed');
  await expect(page.getByTestId('start-frontier')).toContainText('12 completed runs: enough to fit');
  await page.screenshot({ path: info.outputPath('start-after-sweep.png'), fullPage: true });
  await page.getByTestId('start-fit').click();
  await expect(page).toHaveURL(/#\/frontier$/);
  await expect(page.getByTestId('frontier-source')).toContainText('12 completed runs', { timeout: 60_000 });
  await expect(page.getByTestId('allocation')).toBeVisible();

  // With the sweep fitted, the Runs table says which of its runs were over- or under-trained.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  const verdicts = page.getByTestId('run-verdicts');
  await expect(verdicts.first()).toBeVisible();
  await expect(verdicts.filter({ hasText: /near-optimal|over-trained|under-trained/ })).toHaveCount(12);
  await page.screenshot({ path: info.outputPath('runs-verdicts.png'), fullPage: true });
});
