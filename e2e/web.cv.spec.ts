import { expect, test } from './fixtures';

test('k-fold cross-validation trains its folds in the worker and shows mean ± std with a band', async ({
  page,
}, info) => {
  test.setTimeout(240_000);
  await page.goto('/#/runs');
  await page.getByRole('button', { name: 'Cross-validation…' }).click();
  const form = page.getByTestId('new-cv');
  await expect(form.getByTestId('cv-dataset')).toHaveValue('demo-teacher', { timeout: 30_000 });

  await form.getByTestId('cv-k').fill('3');
  await form.getByTestId('cv-steps').fill('40');
  await form.getByTestId('start-cv').click();
  const summary = page.getByTestId('cv-summary');
  await expect(summary).toContainText('3 of 3 folds completed', { timeout: 200_000 });
  await expect(summary.getByTestId('cv-loss')).toHaveText(/^\d\.\d{5} ± \d\.\d{5}$/);
  await expect(summary.locator('tbody tr')).toHaveCount(3);
  // The band (a filled path) and one line per fold are drawn.
  await expect(summary.locator('svg path[fill="#1b1e27"]')).toHaveCount(1);
  await page.screenshot({ path: info.outputPath('cross-validation.png'), fullPage: true });

  // The cross-validation is a record: after a reload its summary opens again from its group in the table.
  await page.reload();
  await page.getByTestId('cv-open-summary').click();
  await expect(page.getByTestId('cv-summary')).toContainText('3 of 3 folds completed');
  await expect(page.getByTestId('cv-summary').getByTestId('cv-loss')).toHaveText(/^\d\.\d{5} ± \d\.\d{5}$/);
});
