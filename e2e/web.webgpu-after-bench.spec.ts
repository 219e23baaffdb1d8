import { chooseWebGpuOrSkip, expect, listRuns, newSweepRunCompleted, startOneRunSweep, test } from './fixtures';

// A user who benchmarks WebGPU on This computer and then trains on it. The naive loop's synchronous reads
// leave a WebGPU device unable to map buffers in Chromium, so the benchmark must not use the device that
// training uses: the run has to train on WebGPU to the end, with nothing in its log.
test('a run trains on WebGPU after a WebGPU benchmark in the same window, and a fit does not wait for it', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  await chooseWebGpuOrSkip(page);
  await page.getByTestId('bench-backend').selectOption('webgpu');
  await page.getByTestId('bench-steps').fill('3');
  await page.getByTestId('bench-rounds').fill('1');
  await page.getByRole('button', { name: 'Run benchmark' }).click();
  const result = page.getByTestId('bench-result');
  await expect(result).toBeVisible({ timeout: 100_000 });
  await expect(result.locator('tbody tr').nth(1)).toContainText('webgpu');

  await page.goto('/#/sweeps');
  const before = await startOneRunSweep(page, '1e6');
  const details = page.getByTestId('sweep-details');
  await expect(page.getByTestId('training-now')).toBeVisible({ timeout: 60_000 });

  // While the run trains, the benchmark says it shares the computer, and a fit does not wait for the run:
  // fits have a worker of their own.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await page.getByRole('link', { name: 'This computer' }).click();
  await expect(page.getByTestId('bench-busy')).toContainText('is training: it shares this computer');
  // The benchmark's settings and figures outlive the view.
  await expect(page.getByTestId('bench-result')).toBeVisible();
  await expect(page.getByTestId('bench-backend')).toHaveValue('webgpu');
  await expect(page.getByTestId('bench-steps')).toHaveValue('3');
  await page
    .locator('section[aria-labelledby="bench-title"]')
    .screenshot({ path: info.outputPath('bench-while-training.png') });
  await nav.getByRole('link', { name: 'Frontier' }).click();
  await page.getByRole('button', { name: "Chinchilla's published runs" }).click();
  await expect(page.getByTestId('law-table')).toBeVisible({ timeout: 60_000 });
  const training = (await listRuns(page)).find((r) => r.sweepId !== null && !before.has(r.id));
  expect(training?.status, 'the fit came back while the run was still training').toBe('running');
  await nav.getByRole('link', { name: 'Sweeps' }).click();
  const run = await newSweepRunCompleted(page, before);
  await expect(details).toContainText('1 of 1 completed');
  expect(run.environment.backend).toBe('webgpu');
  expect(run.log).toEqual([]);
  await page.screenshot({ path: info.outputPath('after-bench.png'), fullPage: true });
  await page.evaluate(() => localStorage.removeItem('isoflop.trainingBackend'));
});
