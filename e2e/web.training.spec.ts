import { expect, test } from './fixtures';

// Training runs in the worker: the page's main thread must stay free while it does.
test.describe('web mode: training in the worker', () => {
  for (const backend of ['webgpu', 'webgl', 'wasm'] as const) {
    test(`trains the MLP benchmark on ${backend} with no long task on the main thread`, async ({ page }, info) => {
      test.setTimeout(120_000);
      await page.addInitScript(() => {
        const longTasks: number[] = [];
        (globalThis as { longTasks?: number[] }).longTasks = longTasks;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) longTasks.push(entry.duration);
        }).observe({ type: 'longtask', buffered: false });
      });
      const pthreadWorkers: string[] = [];
      page.on('worker', (worker) => {
        if (worker.url().endsWith('/wasm/tfjs-backend-wasm-threaded-simd.worker.js')) pthreadWorkers.push(worker.url());
      });
      await page.goto('/#/system');
      await expect(page.getByTestId('backend-table')).toBeVisible({ timeout: 20_000 });
      await page.getByTestId('bench-backend').selectOption(backend);
      // SwiftShader's WebGPU takes over a second per step of this MLP here: fewer steps there.
      const steps = backend === 'webgpu' ? 4 : 15;
      const rounds = backend === 'webgpu' ? 1 : 2;
      await page.getByTestId('bench-steps').fill(String(steps));
      await page.getByTestId('bench-rounds').fill(String(rounds));
      // Let the first render's work settle before watching for long tasks.
      await page.waitForTimeout(500);
      await page.evaluate(() => {
        (globalThis as { longTasks?: number[] }).longTasks?.splice(0);
      });
      await page.getByRole('button', { name: 'Run benchmark' }).click();
      await expect(page.getByRole('button', { name: 'Measuring…' })).toBeVisible();
      const result = page.getByTestId('bench-result');
      await expect(result).toBeVisible({ timeout: 100_000 });
      await expect(result.locator('tbody tr').first()).toContainText(backend);
      // Peak tensor memory is measured on every backend, WebGPU included (it reads nothing from the device).
      for (const row of await result.locator('tbody tr').all()) {
        await expect(row.locator('td').nth(4)).toHaveText(/^\d+\.\d MB$/);
      }
      await expect(page.locator('.bench-ratio')).toContainText(
        `mlp, fastest of ${rounds} alternating round${rounds === 1 ? '' : 's'} of ${steps} steps`,
      );
      const ratio = Number((await page.getByTestId('bench-ratio').textContent())?.replace('×', ''));
      expect(ratio).toBeGreaterThan(0);
      // On WebGPU the naive loop's dataSync returns within milliseconds while the same step, read with
      // await data(), takes over a second on SwiftShader: its figure is not comparable, so no bound there.
      if (backend !== 'webgpu') expect(ratio).toBeGreaterThan(0.3);
      // ...and the view says so where the adapter is a software one, as SwiftShader's is here.
      const softwareAdapter = (await page.getByTestId('backend-table').textContent())?.includes(
        'swiftshader (software',
      );
      await expect(page.getByTestId('bench-software-webgpu')).toHaveCount(
        backend === 'webgpu' && softwareAdapter ? 1 : 0,
      );
      if (backend === 'wasm') {
        // The threaded build ran: its pthread workers started from the app's own files (no blob: scripts,
        // which the CSP refuses), and the bench says how many threads tfjs gave XNNPACK.
        expect(pthreadWorkers.length).toBeGreaterThan(0);
        const expected = await page.evaluate(() => Math.max(1, Math.min(8, navigator.hardwareConcurrency)));
        await expect(page.getByTestId('bench-kernels')).toContainText('BatchMatMul (wasm)');
        await expect(page.getByTestId('bench-wasm-threads')).toContainText(
          `WASM on ${expected} thread${expected === 1 ? '' : 's'} (one per core of the`,
        );
      }
      const longTasks = await page.evaluate(() => (globalThis as { longTasks?: number[] }).longTasks ?? []);
      expect(
        longTasks.filter((duration) => duration > 50),
        'main-thread tasks over 50 ms while training',
      ).toEqual([]);
      // The card itself: the page scrolls inside its main column, which a full-page shot does not reach.
      await page
        .locator('section[aria-labelledby="bench-title"]')
        .screenshot({ path: info.outputPath(`bench-${backend}.png`) });
    });
  }
});
