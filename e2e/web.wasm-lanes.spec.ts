import { expect, test } from './fixtures';

// A sweep on WASM trains one run per core at once, each in a worker of its own, and the UI stays responsive.
test('trains a sweep on WASM with one run per core at once, each worker on one WASM thread', async ({ page }, info) => {
  test.setTimeout(300_000);
  await page.goto('/#/system');
  await expect(page.getByTestId('backend-table')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('training-backend').selectOption('wasm');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  test.skip(
    cores < 2,
    'this browser reports one core: the app then trains one run at a time, so there are no side-by-side runs to see',
  );
  const lanes = Math.min(4, cores);

  await page.goto('/#/sweeps');
  await page.getByRole('button', { name: 'New sweep…' }).click();
  const form = page.getByTestId('new-sweep');
  await form.getByTestId('sweep-dataset').selectOption('demo-teacher');
  await form.getByTestId('sweep-budgets').fill('3e7,1e8');
  await form.getByLabel('Sizes per budget').fill('3');
  await form.getByRole('button', { name: 'Plan' }).click();
  const planned = form.getByTestId('sweep-plan').locator('tbody tr');
  await expect(planned.first()).toBeVisible();
  const count = await planned.count();
  await form.getByRole('button', { name: /Start sweep/ }).click();

  const live = page.getByTestId('training-now');
  await expect(live.getByTestId('training-lane')).toHaveCount(lanes, { timeout: 60_000 });
  await expect(live.getByRole('heading', { level: 2 })).toContainText(`Training ${lanes} runs at once`);
  await expect(live.getByRole('progressbar')).toHaveCount(lanes + 1);
  // The page answers while the runs train: a frame comes within a fraction of a second.
  const frame = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const start = performance.now();
        requestAnimationFrame(() => resolve(performance.now() - start));
      }),
  );
  expect(frame).toBeLessThan(250);
  await page.screenshot({ path: info.outputPath('lanes.png') });

  await expect(page.getByTestId('sweep-finished')).toContainText(`has finished: ${count} of ${count} runs completed`, {
    timeout: 240_000,
  });
  const runs = (await (await page.request.post('/api/runs.list', { data: {} })).json()).value.runs as Array<{
    sweepId: string | null;
    status: string;
    environment: { backend: string; adapter: string | null } | null;
    log: Array<{ message: string }>;
  }>;
  const swept = runs.filter((run) => run.sweepId !== null);
  expect(swept).toHaveLength(count);
  for (const run of swept) {
    expect(run.status).toBe('completed');
    expect(run.environment?.backend).toBe('wasm');
  }
  // Each lane's WASM computed on one thread, as the runs' records say: a lane's share of the cores goes to
  // data-parallel helpers only for a model over 1e9 FLOPs a step, which these MLPs are far below.
  for (const run of swept) {
    expect(run.environment?.adapter).toBe('SIMD, 1 thread');
    expect(run.log.map((entry) => entry.message).join('\n')).not.toContain('Data parallel');
  }
});
