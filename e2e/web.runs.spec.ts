import { spawnSync } from 'node:child_process';
import { expect, serverFor, test } from './fixtures';

// The Runs view over a small sweep the CLI trains into this spec's own data folder first.
test.beforeAll(async () => {
  const { store } = await serverFor(test.info().file);
  const args = ['bin/isoflop.js', 'sweep', '--demo', 'teacher', '--budgets', '1e6,3e6', '--sizes', '2'];
  const result = spawnSync(process.execPath, [...args, '--store', store, '--json'], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(result.status, result.stderr).toBe(0);
});

test('sorts, filters and compares runs, zooms a curve, re-runs one and cancels another', async ({ page }, info) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto('/#/runs');
  const table = page.getByTestId('runs-table');
  const rows = table.locator('tbody tr.clickable');
  await expect(rows.nth(3)).toBeVisible();

  // Sort by best validation loss, both ways.
  const bestHeader = table.getByRole('columnheader', { name: /Best val/ });
  await bestHeader.getByRole('button').click();
  await expect(bestHeader).toHaveAttribute('aria-sort', 'ascending');
  await page.getByLabel('group by sweep').uncheck();
  const best = async () =>
    (await rows.locator('td:nth-child(9)').allTextContents()).map(Number).filter((v) => Number.isFinite(v));
  const ascending = await best();
  expect(ascending.length).toBeGreaterThanOrEqual(4);
  expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
  await bestHeader.getByRole('button').click();
  await expect(bestHeader).toHaveAttribute('aria-sort', 'descending');
  expect(await best()).toEqual([...ascending].sort((a, b) => b - a));
  await bestHeader.getByRole('button').click(); // ascending again: trained runs first

  // Filter.
  const search = page.getByTestId('runs-search');
  await search.fill('no run is called this');
  await expect(rows).toHaveCount(0);
  await expect(page.getByText('No run matches')).toBeVisible();
  await search.fill('');

  // Overlay two runs.
  await page
    .getByRole('checkbox', { name: /^Compare / })
    .nth(0)
    .check();
  await page
    .getByRole('checkbox', { name: /^Compare / })
    .nth(1)
    .check();
  const comparison = page.getByTestId('run-comparison');
  await expect(comparison.locator('.legend li')).toHaveCount(2);
  await expect(comparison.locator('svg path[stroke]')).toHaveCount(2);

  // Export the comparison as JSON under a name of one's own; it reports on exactly those two runs.
  await comparison.getByRole('button', { name: 'Export report…' }).click();
  const dialog = page.getByTestId('export-dialog');
  await dialog.getByLabel('JSON', { exact: true }).check();
  await dialog.getByTestId('export-name').fill('comparison-e2e');
  await dialog.getByRole('button', { name: 'Export' }).click();
  await expect(dialog.getByRole('link', { name: 'comparison-e2e.json' })).toBeVisible({ timeout: 30_000 });
  const exported = await (await page.request.get('/data/reports/comparison-e2e.json')).json();
  expect(exported.sweep.scope).toBe('runs');
  expect(exported.sweep.runIds).toHaveLength(2);
  await page.screenshot({ path: info.outputPath('export-dialog.png') });
  await dialog.getByRole('button', { name: 'Done' }).click();

  // One run's curves: smoothing draws the raw curve faded behind; dragging zooms all four charts (loss, the
  // generalization gap on its own linear axis, learning rate, throughput).
  await rows.nth(0).click();
  const details = page.getByTestId('run-details');
  await expect(details.locator('.chart')).toHaveCount(4);
  await expect(details.getByTestId('gap-chart')).toBeVisible();
  // Every chart is drawn at the width it is shown at: its tick labels are the same size on wide and narrow charts.
  const tickHeights = await details
    .locator('.chart svg')
    .evaluateAll((svgs) => svgs.map((svg) => svg.querySelector('.tick')?.getBoundingClientRect().height ?? 0));
  expect(Math.max(...tickHeights) - Math.min(...tickHeights)).toBeLessThan(1.5);
  expect(Math.min(...tickHeights)).toBeGreaterThan(9);
  await expect(details.locator('.chart').first().locator('path[opacity="0.25"]')).toHaveCount(1);
  await page.getByTestId('smoothing').fill('0');
  await expect(details.locator('.chart').first().locator('path[opacity="0.25"]')).toHaveCount(0);
  const plot = details.locator('.chart-plot').first();
  await plot.scrollIntoViewIfNeeded();
  const box = await plot.boundingBox();
  if (!box) throw new Error('the loss chart has no box');
  // Hovering reads every curve's value at the pointer's x.
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  const readout = details.getByTestId('chart-readout');
  await expect(readout).toContainText('training loss:');
  await expect(readout).toContainText('validation loss:');
  await expect(readout).toContainText(/(tokens|rows) \d/);
  await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.5, { steps: 6 });
  await page.mouse.up();
  await expect(details.getByRole('button', { name: 'Show all' })).toHaveCount(4);
  await page.screenshot({ path: info.outputPath('runs-zoomed.png'), fullPage: true });
  // The zoom belongs to that run: another run opens unzoomed, and the first comes back zoomed.
  await rows.nth(1).click();
  await expect(details.locator('.chart')).toHaveCount(4);
  await expect(details.getByRole('button', { name: 'Show all' })).toHaveCount(0);
  await rows.nth(0).click();
  await expect(details.getByRole('button', { name: 'Show all' })).toHaveCount(4);
  await plot.dblclick();
  await expect(details.getByRole('button', { name: 'Show all' })).toHaveCount(0);

  // Re-run the selected run: it trains again in the worker and completes.
  const row = (id: string) => page.locator(`[data-testid="runs-table"] tr[data-run-id="${id}"]`);
  const firstId = (await rows.nth(0).getAttribute('data-run-id')) as string;
  await row(firstId).getByRole('button', { name: 'Re-run' }).click();
  await expect(row(firstId).locator('.status')).not.toHaveText('completed', { timeout: 10_000 });
  await expect(row(firstId).locator('.status')).toHaveText('completed', { timeout: 120_000 });

  // A waiting run can be cancelled.
  const secondId = (await rows.nth(1).getAttribute('data-run-id')) as string;
  await page.request.post('/api/runs.requeue', { data: { id: secondId } });
  await page.reload();
  await expect(row(secondId).locator('.status')).toHaveText('queued');
  // The reload reopened what was shown: the two runs ticked for comparison, and the selected run.
  await expect(page.getByTestId('run-comparison').locator('.legend li')).toHaveCount(2);
  await expect(page.getByTestId('run-details')).toBeVisible();
  await row(secondId).getByRole('button', { name: 'Cancel' }).click();
  await expect(row(secondId).locator('.status')).toHaveText('cancelled');
  await page.screenshot({ path: info.outputPath('runs-table.png'), fullPage: true });
});
