import { spawnSync } from 'node:child_process';
import { expect, serverFor, test } from './fixtures';

// A tiny sweep from the CLI into the server's data folder: the app must show it, and fit it.
test.describe('web mode: sweeps from the CLI', () => {
  test.beforeAll(async () => {
    const { store } = await serverFor(test.info().file);
    const result = spawnSync(
      process.execPath,
      [
        'bin/isoflop.js',
        'sweep',
        '--demo',
        'teacher',
        '--budgets',
        '1e7,3e7',
        '--sizes',
        '3',
        '--store',
        store,
        '--json',
      ],
      { encoding: 'utf8', timeout: 180_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.runs).toHaveLength(6);
  });

  test('shows the sweep, its runs and their curves, and fits it on the Frontier', async ({ page }, info) => {
    test.setTimeout(120_000);
    await page.goto('/#/sweeps');
    const details = page.getByTestId('sweep-details');
    await expect(details).toBeVisible({ timeout: 20_000 });
    await expect(details).toContainText('6 of 6 completed');
    await expect(details.getByRole('img', { name: /IsoFLOP profiles/ })).toBeVisible();
    await page.screenshot({ path: info.outputPath('sweep.png') });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
    const table = page.getByTestId('runs-table');
    await expect(table.locator('tbody tr[data-run-id]')).toHaveCount(6);
    await table.locator('tbody tr[data-run-id]').first().click();
    await expect(page.getByTestId('run-details').getByRole('img', { name: 'Loss' })).toBeVisible();
    await page.screenshot({ path: info.outputPath('runs.png'), fullPage: true });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sweeps' }).click();
    // Export: a PDF and a JSON land in the data folder and are listed, and open.
    await page.getByRole('button', { name: 'Export report…' }).click();
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByTestId('export-name').fill('bad name!');
    await expect(dialog.getByRole('button', { name: 'Export' })).toBeDisabled();
    await dialog.getByTestId('export-name').fill('cli-sweep-report');
    // The summary sizes a model for a budget the user names (blank: the largest trained).
    await dialog.getByTestId('export-budget').fill('lots');
    await expect(dialog.getByRole('button', { name: 'Export' })).toBeDisabled();
    await dialog.getByTestId('export-budget').fill('1e9');
    await dialog.getByRole('button', { name: 'Export' }).click();
    await expect(dialog.getByRole('link', { name: 'cli-sweep-report.pdf' })).toBeVisible({ timeout: 60_000 });
    await expect(dialog.getByRole('link', { name: 'cli-sweep-report.json' })).toBeVisible();
    await dialog.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    const reports = page.getByTestId('reports-table');
    await expect(reports.locator('tbody tr')).toHaveCount(2, { timeout: 60_000 });
    // Each file says what it was made from.
    await expect(reports.getByTestId('report-source').first()).toContainText(/^Sweep: .+/);
    const json = await (await page.request.get('/data/reports/cli-sweep-report.json')).json();
    expect(json.summary).toMatch(/^For 1e9 FLOPs on /);
    expect(json.fit.optimumCurve.length).toBeGreaterThan(10);
    const pdfName = (await reports.locator('code', { hasText: '.pdf' }).textContent()) ?? '';
    const pdf = await page.request.get(`/data/reports/${pdfName}`);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await page.screenshot({ path: info.outputPath('reports.png') });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sweeps' }).click();
    await page.getByRole('button', { name: 'Fit on the Frontier' }).click();
    await expect(page.getByTestId('frontier-source')).toContainText('6 completed runs', { timeout: 60_000 });
    await expect(page.getByTestId('law-table')).toBeVisible();
    // The teacher demo's noise floor is known: the view puts it beside the fitted E.
    await expect(page.getByTestId('known-floor')).toContainText(
      /the data's known noise floor is 0\.09: E is [\d.]+% (above|below) it/,
    );
    await page.screenshot({ path: info.outputPath('frontier-from-sweep.png'), fullPage: true });

    // The fit does not vanish: after a reload the Frontier fits the newest sweep with enough runs by itself,
    // and its picker names the sweep.
    await page.reload();
    await expect(page.getByTestId('frontier-source')).toContainText('6 completed runs', { timeout: 60_000 });
    await expect(page.getByTestId('law-table')).toBeVisible();
    await expect(page.getByTestId('frontier-sweep')).toHaveValue(/^sweep-/);
  });
});
