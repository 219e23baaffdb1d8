import { expect, test } from '@playwright/test';

test('the over-fitting demo trains in the worker, is flagged, and early stopping ends it', async ({ page }, info) => {
  test.setTimeout(240_000);
  page.on('pageerror', (error) => {
    throw error;
  });
  await page.goto('/#/runs');
  await page.getByRole('button', { name: 'Over-fitting demo', exact: true }).click();
  await expect(page.getByTestId('run-details')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Over-fitting demo', exact: true })).toBeEnabled({ timeout: 200_000 });
  const verdict = page.getByTestId('overfit-verdict');
  await expect(verdict).toContainText('over-fitting');
  await expect(page.getByTestId('run-details')).toContainText('early stopping');
  await page.screenshot({ path: info.outputPath('overfit-demo.png'), fullPage: true });
});
