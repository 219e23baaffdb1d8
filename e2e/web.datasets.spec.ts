import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './fixtures';

// Runs after the first-screen spec on the same fresh data folder: the demos are made on its first start.
test.describe('web mode: datasets', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/#/datasets');
    // First start of a data folder: the built-in demos are generated in the background.
    await expect(page.getByRole('button', { name: /Synthetic language/ })).toBeVisible({ timeout: 90_000 });
  });

  test('shows the built-in demos with their statistics', async ({ page }) => {
    await page.getByRole('button', { name: /Teacher–student regression/ }).click();
    const details = page.getByTestId('dataset-details');
    await expect(details.getByRole('heading', { name: 'Teacher–student regression' })).toBeVisible();
    await expect(details).toContainText('Noise floor (MSE)');
    await expect(details).toContainText('0.09');
    await expect(page.getByTestId('dataset-preview').locator('tbody tr')).toHaveCount(10);
    await page.getByRole('button', { name: /Synthetic language/ }).click();
    await expect(page.getByTestId('dataset-sample')).toContainText('.');
    await expect(details).toContainText('bits/byte');
  });

  test('imports a CSV from the file picker, choosing the target, with progress, then renames and deletes it', async ({
    page,
  }, info) => {
    const rows = Array.from(
      { length: 200 },
      (_, i) => `${i % 9},${(i * 0.37).toFixed(2)},${i % 3 ? 'north' : 'south'},${i % 2 ? 'yes' : 'no'}`,
    );
    await page.getByTestId('import-file').setInputFiles({
      name: 'churn.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`tenure,spend,region,churned\n${rows.join('\n')}\n`),
    });
    const dialog = page.getByRole('dialog', { name: 'Import churn.csv' });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId('target-column').locator('option')).toHaveText([
      'tenure',
      'spend',
      'region',
      'churned',
    ]);
    await dialog.getByTestId('target-column').selectOption('churned');
    await page.screenshot({ path: info.outputPath('import-dialog.png') });
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    const details = page.getByTestId('dataset-details');
    await expect(details.getByRole('heading', { name: 'churn' })).toBeVisible();
    await expect(details).toContainText('classification');
    await expect(details).toContainText('Class balance');
    await page.screenshot({ path: info.outputPath('imported-csv.png'), fullPage: true });

    await details.getByRole('button', { name: 'Rename' }).click();
    await details.getByLabel('New name').fill('Customer churn');
    await details.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('button', { name: /Customer churn/ })).toBeVisible();

    await page.getByTestId('dataset-details').getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete Customer churn?' });
    await confirm.getByRole('button', { name: 'Delete dataset' }).click();
    await expect(page.getByRole('button', { name: /Customer churn/ })).toHaveCount(0);
    const listed = await (await page.request.post('/api/datasets.list', { data: {} })).json();
    expect(listed.value.datasets.map((d: { name: string }) => d.name)).not.toContain('Customer churn');
  });

  test('imports a text corpus with a BPE tokenizer', async ({ page }) => {
    const text = Array.from(
      { length: 600 },
      (_, i) => `Line ${i}: scaling laws predict the loss of larger models.`,
    ).join('\n');
    await page
      .getByTestId('import-file')
      .setInputFiles({ name: 'laws.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    const dialog = page.getByRole('dialog', { name: 'Import laws.txt' });
    await dialog.getByLabel('Tokenizer').selectOption('bpe');
    await dialog.getByLabel('Vocabulary size').fill('400');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    const details = page.getByTestId('dataset-details');
    await expect(details.getByRole('heading', { name: 'laws' })).toBeVisible();
    await expect(details).toContainText('BPE');
    await expect(page.getByTestId('dataset-sample')).toContainText('Line 0: scaling laws');
  });

  test('a file dropped on the view opens the import dialog', async ({ page }) => {
    const region = page.getByRole('region', { name: 'Datasets' });
    const dataTransfer = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      const rows = Array.from({ length: 40 }, (_, i) => `${i},${i * 2},${i % 2}`).join('\n');
      transfer.items.add(new File([`a,b,label\n${rows}\n`], 'dropped.csv', { type: 'text/csv' }));
      return transfer;
    });
    await region.dispatchEvent('dragover', { dataTransfer });
    await region.dispatchEvent('drop', { dataTransfer });
    const dialog = page.getByRole('dialog', { name: 'Import dropped.csv' });
    await expect(dialog.getByTestId('target-column')).toHaveValue('label');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(dialog).toBeHidden({ timeout: 30_000 });
    await expect(page.getByTestId('dataset-details').getByRole('heading', { name: 'dropped' })).toBeVisible();
  });

  test('a bad file gets a clear error in the dialog and leaves the list as it was', async ({ page, store }) => {
    const before = await (await page.request.post('/api/datasets.list', { data: {} })).json();
    const bytes = Buffer.alloc(9000, 65);
    bytes[4000] = 0;
    await page.getByTestId('import-file').setInputFiles({ name: 'scan.txt', mimeType: 'text/plain', buffer: bytes });
    const dialog = page.getByRole('dialog', { name: 'Import scan.txt' });
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(dialog.getByRole('alert')).toContainText('scan.txt looks like a binary file');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // The uploaded bytes were discarded with the failed import.
    const stray = readdirSync(join(store, 'datasets')).filter((name) => name.startsWith('.'));
    expect(stray.filter((name) => name !== '.demos.json')).toEqual([]);
    const after = await (await page.request.post('/api/datasets.list', { data: {} })).json();
    expect(after.value.datasets.map((d: { id: string }) => d.id)).toEqual(
      before.value.datasets.map((d: { id: string }) => d.id),
    );
  });
});
