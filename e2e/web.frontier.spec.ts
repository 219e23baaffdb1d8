import { expect, test } from './fixtures';

test.describe('web mode: the frontier', () => {
  test("fits Chinchilla's published runs in the worker and answers for a budget", async ({ page }, info) => {
    page.on('pageerror', (error) => {
      throw error;
    });
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.text().startsWith('CSP violation')) violations.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) =>
        console.error(`CSP violation: ${event.violatedDirective}`),
      );
    });
    await page.goto('/#/frontier');
    await expect(page.getByRole('heading', { name: 'No scaling law fitted yet' })).toBeVisible();
    await page.getByRole('button', { name: "Chinchilla's published runs" }).click();
    const law = page.getByTestId('law-table');
    await expect(law).toBeVisible({ timeout: 60_000 });
    // Besiroglu et al. (2024): E = 1.82, α = 0.348, β = 0.366.
    await expect(law.locator('tr', { hasText: 'E (irreducible loss)' })).toContainText('1.8');
    await expect(law.locator('tr', { hasText: 'α' })).toContainText('0.34');
    // Chinchilla's three approaches side by side, how compute was counted, and a first budget one decade
    // above the largest run (over 1e22 FLOPs), with how far it extrapolates.
    await expect(page.getByTestId('approaches').locator('tbody tr')).toHaveCount(3);
    await expect(page.getByTestId('approaches')).toContainText('IsoFLOP profiles');
    await expect(page.getByTestId('compute-measure')).toContainText('C = 6');
    await expect(page.getByTestId('budget-input')).toHaveValue('1e23');
    await expect(page.getByTestId('budget-note').first()).toContainText('beyond your largest run');
    // The backtest: fitted without the largest budget, asked to predict it.
    await page.getByTestId('backtest-switch').check();
    await expect(page.getByTestId('backtest')).toContainText(
      /the law is off by [\d.]+% on average on the loss of the held-out .* runs/,
      {
        timeout: 60_000,
      },
    );
    await page.getByTestId('budget-input').fill('5.76e23');
    const allocation = page.getByTestId('allocation');
    await expect(allocation).toContainText('Parameters N*');
    const tokensPerParam = Number(
      (await allocation.locator('div', { hasText: 'Tokens / parameter' }).locator('dd').first().textContent()) ?? '',
    );
    expect(tokensPerParam).toBeGreaterThan(10);
    expect(tokensPerParam).toBeLessThan(40);
    // The predicted loss comes with its bootstrap interval, which brackets it.
    const loss = Number(
      (await allocation.locator('div', { hasText: 'Predicted loss' }).locator('dd').first().textContent()) ?? '',
    );
    const [low, high] = ((await page.getByTestId('loss-interval').textContent()) ?? '').split(' – ').map(Number);
    expect(low).toBeLessThanOrEqual(loss);
    expect(high).toBeGreaterThanOrEqual(loss);
    await expect(page.getByTestId('runs-verdicts').locator('tbody tr')).toHaveCount(240);
    // N* and D* against compute, each with its bootstrap band.
    for (const chart of ['Compute-optimal model size', 'Compute-optimal training data']) {
      const card = page.locator('section.card', { has: page.getByRole('img', { name: new RegExp(chart) }) });
      await expect(card).toContainText('95% interval');
    }
    await page.screenshot({ path: info.outputPath('frontier.png'), fullPage: true });
    // The charts are SVG strings put into the page: the strict CSP must not object to them.
    expect(violations).toEqual([]);
  });

  test('a CSV of runs that cannot be fitted gets a message naming the line and column', async ({ page }) => {
    await page.goto('/#/frontier');
    await page.getByTestId('runs-file').setInputFiles({
      name: 'mine.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('params,tokens,loss\n1e6,1e8,3\n2e6,abc,2.9\n'),
    });
    await expect(page.getByRole('alert')).toContainText(
      'line 3 of mine.csv, column "tokens": "abc" is not a positive number',
    );
  });
});
