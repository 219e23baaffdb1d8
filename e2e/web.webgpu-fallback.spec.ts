import { chooseWebGpuOrSkip, expect, newSweepRunCompleted, startOneRunSweep, test } from './fixtures';

// A user who picks WebGPU, and a device lost mid-run: the run must go on from its checkpoint on the next
// backend, record that backend, and say so in its log. The device loss is real: the worker destroys
// tfjs's GPUDevice (fault injection through localStorage), which resolves its `lost` promise.
test('a run whose WebGPU device is lost goes on from its checkpoint on the next backend, and its log says so', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  const table = await chooseWebGpuOrSkip(page);
  await expect(table.locator('tr[data-backend="webgpu"] .tag')).toHaveText('in use');
  await expect(page.getByTestId('compute-badge')).toContainText('WebGPU');
  await page.screenshot({ path: info.outputPath('backend-choice.png') });
  await page.evaluate(() => localStorage.setItem('isoflop.faults.loseWebGpuDeviceAtStep', '150'));

  await page.goto('/#/sweeps');
  const before = await startOneRunSweep(page, '3e6');
  const details = page.getByTestId('sweep-details');
  const run = await newSweepRunCompleted(page, before);
  await expect(details).toContainText('1 of 1 completed');
  expect(run.environment.backend).not.toBe('webgpu');
  expect(run.log).toHaveLength(1);
  const [, stoppedAt, fromStep] =
    /^WebGPU stopped at step (\d+): its device was lost .*The run goes on with (?:webgl|wasm|cpu) from its checkpoint at step (\d+)\.$/.exec(
      run.log[0]?.message ?? '',
    ) ?? [];
  // WebGPU trained up to the loss, and the next backend took over from a checkpoint at or before it.
  expect(Number(stoppedAt)).toBeGreaterThanOrEqual(150);
  expect(Number(fromStep)).toBeGreaterThan(0);
  expect(Number(fromStep)).toBeLessThanOrEqual(Number(stoppedAt));
  // The metrics hold each step once, in order, whatever was trained twice.
  const { metrics } = (await (await page.request.post('/api/runs.get', { data: { id: run.id } })).json()).value;
  const steps = metrics.map((m: { step: number }) => m.step);
  expect(steps).toEqual([...steps].sort((a, b) => a - b));
  expect(new Set(steps).size).toBe(steps.length);
  expect(steps.at(-1)).toBe(run.config.plannedSteps);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  await page.getByTestId('runs-table').locator(`tr[data-run-id="${run.id}"]`).click();
  await expect(page.getByTestId('run-log')).toContainText('WebGPU stopped at step');
  await page.screenshot({ path: info.outputPath('run-log.png'), fullPage: true });
  await page.evaluate(() => {
    localStorage.removeItem('isoflop.faults.loseWebGpuDeviceAtStep');
    localStorage.removeItem('isoflop.trainingBackend');
  });
});
