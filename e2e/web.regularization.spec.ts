import { expect, test } from './fixtures';

test('the regularization comparison trains one network without and with regularization, overlaid', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto('/#/runs');
  await page.getByRole('button', { name: 'Regularization comparison', exact: true }).click();
  const comparison = page.getByTestId('run-comparison');
  await expect(comparison.locator('.legend li')).toHaveCount(2, { timeout: 60_000 });
  await expect(comparison.locator('.legend')).toContainText('none');
  await expect(comparison.locator('.legend')).toContainText('dropout 0.2, weight decay 0.1, L2 0.0001');
  const rows = page.locator('[data-testid="runs-table"] tr[data-run-id^="regularization-"]');
  await expect(rows).toHaveCount(2);
  for (let i = 0; i < 2; i++)
    await expect(rows.nth(i).locator('.status')).toHaveText('completed', { timeout: 200_000 });
  await expect(comparison.locator('svg path[stroke]')).toHaveCount(2);
  await comparison.scrollIntoViewIfNeeded();
  await page.screenshot({ path: info.outputPath('regularization.png') });
});
