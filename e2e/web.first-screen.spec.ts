import { resolve } from 'node:path';
import type { ConsoleMessage } from '@playwright/test';
import { e2eToken } from '../playwright.config';
import { expect, test } from './fixtures';

test.describe('web mode: the first screen', () => {
  const problems: string[] = [];

  test.beforeEach(async ({ page }) => {
    problems.length = 0;
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });
  });

  test.afterEach(() => {
    expect(problems, 'no console errors, page errors or CSP violations').toEqual([]);
  });

  test('shows the frame, the built-in demo data, and the training backend', async ({ page }, info) => {
    await page.goto('/');
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of ['Start', 'Datasets', 'Sweeps', 'Runs', 'Frontier', 'Reports']) {
      await expect(nav.getByRole('link', { name: label })).toBeVisible();
    }
    // The app opens on the path through it (web.start.spec.ts follows it); the data is one step in.
    await expect(page.getByRole('heading', { level: 1, name: 'Start' })).toBeVisible();
    await nav.getByRole('link', { name: 'Datasets' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Datasets' })).toBeVisible();
    // A new user sees data, not an empty screen: the demos are made on a data folder's first start.
    await expect(page.getByRole('button', { name: /Teacher–student regression/ })).toBeVisible({ timeout: 90_000 });
    await expect(page.getByRole('button', { name: /Synthetic language/ })).toBeVisible();
    const badge = page.getByTestId('compute-badge');
    // Here WebGPU is SwiftShader (software), so WebGL, several times faster on this CPU, trains.
    await expect(badge).toContainText(/WebGPU|WebGL/, { timeout: 20_000 });
    await page.screenshot({ path: info.outputPath('first-screen.png') });
  });

  test("probes WebGPU in the training worker and shows the adapter's vendor and architecture", async ({
    page,
    store,
  }, info) => {
    await page.goto('/#/system');
    await expect(page.getByRole('heading', { level: 1, name: 'This computer' })).toBeVisible();
    const table = page.getByTestId('backend-table');
    await expect(table).toBeVisible({ timeout: 20_000 });
    const webgpu = table.locator('tr[data-backend="webgpu"]');
    await expect(webgpu.getByTestId('gpu-adapter')).toContainText('vendor');
    const adapterText = await webgpu.getByTestId('gpu-adapter').textContent();
    expect(adapterText).toMatch(/architecture \S+/);
    await expect(table.locator('tr[data-backend="cpu"]')).toContainText('available');
    // WASM's threads: data-parallel helpers, one per core the browser reports (at most 8).
    await expect(table.locator('tr[data-backend="wasm"]')).toContainText(/SIMD, \d+ threads?/);
    await expect(table.locator('tr[data-backend="wasm"]')).not.toContainText('no SIMD');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.getByTestId('system-info')).toContainText(resolve(store));
    await expect(page.getByTestId('transport')).toHaveText(/web mode/);
    await page.screenshot({ path: info.outputPath('this-computer.png') });
  });

  test('moves between views from the sidebar, and each empty view says how to start', async ({ page }) => {
    await page.goto('/');
    const expectations: Array<[string, string]> = [
      ['Sweeps', 'No sweeps yet'],
      ['Runs', 'No runs yet'],
      ['Frontier', 'No scaling law fitted yet'],
      ['Reports', 'No reports yet'],
    ];
    for (const [label, emptyTitle] of expectations) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
      await expect(page.getByRole('heading', { level: 1, name: label })).toBeVisible();
      await expect(page.getByRole('heading', { level: 2, name: emptyTitle })).toBeVisible();
      await expect(page).toHaveURL(new RegExp(`#/${label.toLowerCase()}$`));
    }
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Datasets' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Datasets' })).toBeVisible();
    await page.goBack();
    await expect(page.getByRole('heading', { level: 1, name: 'Reports' })).toBeVisible();
  });

  test('the API answers over HTTP, and refuses bad payloads and foreign origins', async ({
    request,
    baseURL,
    store,
  }) => {
    const good = await request.post('/api/system.info', { data: {} });
    expect(good.status()).toBe(200);
    const info = await good.json();
    expect(info.value.dataDir).toBe(resolve(store));
    const bad = await request.post('/api/system.info', { data: { page: -1 } });
    expect(bad.status()).toBe(400);
    expect((await bad.json()).error.code).toBe('BAD_REQUEST');
    const foreign = await request.post('/api/system.info', { data: {}, headers: { Origin: 'https://example.com' } });
    expect(foreign.status()).toBe(403);
    const same = await request.post('/api/system.info', { data: {}, headers: { Origin: baseURL ?? '' } });
    expect(same.status()).toBe(200);
  });

  test('without the token the page says how to get in; the printed address signs the browser in', async ({
    browser,
    baseURL,
  }, info) => {
    // A context of its own, without the bearer header every other spec sends.
    const context = await browser.newContext({ baseURL, extraHTTPHeaders: {} });
    const page = await context.newPage();
    const refused = await page.request.post('/api/system.info', { data: {} });
    expect(refused.status()).toBe(401);
    await page.goto('/');
    await expect(page.getByTestId('unauthorized')).toContainText('?token=');
    await page.screenshot({ path: info.outputPath('no-token.png') });
    await page.goto(`/?token=${e2eToken}`);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Start' })).toBeVisible();
    await expect(page.getByTestId('unauthorized')).toHaveCount(0);
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name.startsWith('isoflop-'))).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect((await page.request.post('/api/system.info', { data: {} })).status()).toBe(200);
    await context.close();
  });
});
