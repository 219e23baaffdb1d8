import { expect, skipOnOneCore, test, watchHelperWorkers } from './fixtures';

// Training runs in the worker: the page's main thread must stay free while it does.
test.describe('web mode: training in the worker', () => {
  for (const backend of ['webgpu', 'webgl', 'wasm'] as const) {
    test(`trains the MLP benchmark on ${backend} with no long task on the main thread`, async ({ page }, info) => {
      test.setTimeout(120_000);
      await page.addInitScript(() => {
        const longTasks: Array<{ start: number; duration: number }> = [];
        (globalThis as { longTasks?: typeof longTasks }).longTasks = longTasks;
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
        }).observe({ type: 'longtask', buffered: false });
      });
      const workers: string[] = [];
      page.on('worker', (worker) => {
        workers.push(worker.url());
      });
      await page.goto('/#/system');
      await expect(page.getByTestId('backend-table')).toBeVisible({ timeout: 20_000 });
      await page.getByTestId('bench-backend').selectOption(backend);
      // SwiftShader's WebGPU takes over a second per step of this MLP here: fewer steps there.
      const steps = backend === 'webgpu' ? 4 : 15;
      const rounds = backend === 'webgpu' ? 1 : 2;
      await page.getByTestId('bench-steps').fill(String(steps));
      await page.getByTestId('bench-rounds').fill(String(rounds));
      // Only tasks that start once the benchmark is asked for count: the observer reports the first render's
      // (over 200 ms on a slow machine) when they end, which can be after this point.
      const since = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: 'Run benchmark' }).click();
      await expect(page.getByRole('button', { name: 'Measuring…' })).toBeVisible();
      const result = page.getByTestId('bench-result');
      await expect(result).toBeVisible({ timeout: 100_000 });
      // Read now, while training has just ended: the checks below run in the page too, and their forced
      // layouts would count against the app. A software WebGPU adapter (SwiftShader) computes on the same
      // cores as the page, whose own layouts then took 53-124 ms on 2 cores (Chromium 150; on the base
      // commit as well): there the bound is a frame's 250 ms, elsewhere 50 ms.
      const softwareGpu =
        backend === 'webgpu' &&
        ((await page.getByTestId('backend-table').textContent())?.includes('swiftshader (software') ?? false);
      const bound = softwareGpu ? 250 : 50;
      const longTasks = await page.evaluate(
        () => (globalThis as { longTasks?: Array<{ start: number; duration: number }> }).longTasks ?? [],
      );
      expect(
        longTasks.filter((task) => task.start >= since && task.duration > bound).map((task) => task.duration),
        `main-thread tasks over ${bound} ms while training`,
      ).toEqual([]);
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
        // The app's WASM computes on one thread in each worker, in its plain SIMD build: the only workers are
        // the app's own (no pthread workers from blob: URLs, which the CSP would refuse), and no helpers,
        // which this MLP's small steps do not get (below).
        expect(workers.length).toBeGreaterThan(0);
        for (const url of workers) expect(url).toMatch(/\/assets\/engine\.worker-[\w-]+\.js$/);
        const cores = await page.evaluate(() => Math.max(1, Math.min(8, navigator.hardwareConcurrency)));
        await expect(page.getByTestId('bench-kernels')).toContainText('runs its own BatchMatMul');
        // The fused kernels' SIMD module runs on the worker's WASM heap (compiled under the app's CSP).
        await expect(page.getByTestId('bench-kernels')).toContainText(
          /computes GELU, .*layer norm.*AdamW's step in one fused kernel each/,
        );
        await expect(page.getByTestId('bench-wasm-threads')).toHaveText(
          cores > 1 ? "WASM on 1 thread: this model's steps are too small to share among threads" : 'WASM on 1 thread',
        );
      }
      // The card itself: the page scrolls inside its main column, which a full-page shot does not reach.
      await page
        .locator('section[aria-labelledby="bench-title"]')
        .screenshot({ path: info.outputPath(`bench-${backend}.png`) });
    });
  }

  test('trains gpt-small on WASM data parallel: helper workers each compute a part of every batch', async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await skipOnOneCore(page);
    const helperWorkers = watchHelperWorkers(page);
    await page.goto('/#/system');
    await expect(page.getByTestId('backend-table')).toBeVisible({ timeout: 20_000 });
    await page.getByTestId('bench-model').selectOption('gpt-small');
    await page.getByTestId('bench-backend').selectOption('wasm');
    await page.getByTestId('bench-threads').selectOption('2');
    await page.getByTestId('bench-steps').fill('1');
    await page.getByTestId('bench-rounds').fill('1');
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await expect(page.getByTestId('bench-result')).toBeVisible({ timeout: 170_000 });
    await expect(page.getByTestId('bench-wasm-threads')).toHaveText(
      'WASM on 2 threads: each batch split 2 ways, each part computed by its own copy of the model',
    );
    // The figure beside it: the same model on one thread, in the same alternating rounds (its size is the
    // bench's to print, not a test's to bound).
    const oneThread = page.getByTestId('bench-one-thread');
    await expect(oneThread).toContainText(/the engine trained \d+ tokens\/s: 2 threads are \d+\.\d\d× of that/);
    const speedup = Number(/(\d+\.\d\d)×/.exec((await oneThread.textContent()) ?? '')?.[1]);
    expect(speedup).toBeGreaterThan(0);
    // One helper worker, started from the app's own files by the benchmark's worker.
    expect(helperWorkers).toHaveLength(1);
  });
});
