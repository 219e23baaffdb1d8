import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { e2eToken } from '../playwright.config';

/**
 * Each spec file gets a server of its own over a fresh data folder (`isoflop serve --port 0`), started when
 * its first test asks for `baseURL` and stopped when the next file's starts: no spec sees another's runs,
 * and any one passes alone (`--grep`). The token is the run's `e2eToken`, which every request sends.
 */
export interface SpecServer {
  file: string;
  url: string;
  store: string;
  child: ChildProcess;
}

let current: SpecServer | null = null;

function stop(server: SpecServer): void {
  server.child.kill('SIGTERM');
  rmSync(server.store, { recursive: true, force: true });
}

process.once('exit', () => {
  if (current) stop(current);
});

/** The server of the spec file `file`, started on first use. */
export async function serverFor(file: string): Promise<SpecServer> {
  if (current?.file === file) return current;
  if (current) stop(current);
  current = null;
  const store = mkdtempSync(join(tmpdir(), 'isoflop-e2e-'));
  const child = spawn(process.execPath, ['bin/isoflop.js', 'serve', '--port', '0', '--store', store], {
    env: { ...process.env, ISOFLOP_TOKEN: e2eToken },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /serving on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`isoflop serve exited (${code}) before serving: ${out}`)));
  });
  current = { file, url, store, child };
  return current;
}

/** A spec's `test`: its own server (see above), and a page that fails the test on any uncaught error. */
export const test = base.extend<{ store: string }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern.
  baseURL: async ({}, use, testInfo) => {
    await use((await serverFor(testInfo.file)).url);
  },
  // biome-ignore lint/correctness/noEmptyPattern: as above.
  store: async ({}, use, testInfo) => {
    await use((await serverFor(testInfo.file)).store);
  },
  page: async ({ page }, use) => {
    page.on('pageerror', (error) => {
      throw error;
    });
    await use(page);
  },
});

export { expect };

/** A run as the API lists it, with the fields the specs read. */
export interface ListedRun {
  id: string;
  sweepId: string | null;
  status: string;
  config: { budgetFlops: number; plannedSteps: number };
  environment: { backend: string };
  log: Array<{ message: string }>;
}

export async function listRuns(page: Page): Promise<ListedRun[]> {
  return (await (await page.request.post('/api/runs.list', { data: {} })).json()).value.runs;
}

/** Waits until the sweep run that was not in `before` (ids listed before the sweep started) completes, and returns it. */
export async function newSweepRunCompleted(page: Page, before: Set<string>): Promise<ListedRun> {
  const find = async () => (await listRuns(page)).find((r) => r.sweepId !== null && !before.has(r.id));
  await expect.poll(async () => (await find())?.status, { timeout: 200_000, intervals: [1000] }).toBe('completed');
  return (await find()) as ListedRun;
}

/**
 * Opens This computer and makes WebGPU the backend new runs train on; returns the backend table. Skips the
 * test where the browser has no WebGPU adapter: there is nothing WebGPU to test there.
 */
export async function chooseWebGpuOrSkip(page: Page): Promise<Locator> {
  await page.goto('/#/system');
  const table = page.getByTestId('backend-table');
  await expect(table).toBeVisible({ timeout: 30_000 });
  test.skip(
    (await table.locator('tr[data-backend="webgpu"] .tag').textContent()) === 'unavailable',
    'this browser has no WebGPU adapter',
  );
  await page.getByTestId('training-backend').selectOption('webgpu');
  return table;
}

/** Plans a one-run sweep of demo-teacher at `budget` FLOPs and starts it; returns the run ids there before it. */
export async function startOneRunSweep(page: Page, budget: string): Promise<Set<string>> {
  await page.getByRole('button', { name: 'New sweep…' }).click();
  const form = page.getByTestId('new-sweep');
  await form.getByTestId('sweep-dataset').selectOption('demo-teacher');
  await form.getByTestId('sweep-budgets').fill(budget);
  await form.getByLabel('Sizes per budget').fill('1');
  await form.getByRole('button', { name: 'Plan' }).click();
  await expect(form.getByTestId('sweep-plan').locator('tbody tr')).toHaveCount(1);
  const before = new Set((await listRuns(page)).map((r) => r.id));
  await form.getByRole('button', { name: /Start sweep/ }).click();
  return before;
}

/** The URLs of the data-parallel helper workers the page starts from now on (the app's gradient.worker). */
export function watchHelperWorkers(page: Page): string[] {
  const urls: string[] = [];
  page.on('worker', (worker) => {
    if (/\/assets\/gradient\.worker-[\w-]+\.js$/.test(worker.url())) urls.push(worker.url());
  });
  return urls;
}

/** Skips a test of data parallelism where the browser reports one core. */
export async function skipOnOneCore(page: Page): Promise<number> {
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  test.skip(
    cores < 2,
    'this browser reports one core: the app then trains on one thread, so there is no second thread to share batches with',
  );
  return cores;
}
