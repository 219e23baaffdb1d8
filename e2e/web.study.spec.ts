import { expect, test } from './fixtures';

test('a 6-trial study trains in the worker, prunes by the median rule, and shows its trials and charts', async ({
  page,
}, info) => {
  test.setTimeout(300_000);
  const api = async (channel: string, data: object) =>
    (await (await page.request.post(`/api/${channel}`, { data })).json()).value;
  const before = ((await api('studies.list', {})) as unknown[]).length;
  await page.goto('/#/studies');
  await page.getByRole('button', { name: 'New study…' }).click();
  const form = page.getByTestId('new-study');
  await expect(form.getByTestId('study-dataset')).toHaveValue('demo-teacher', { timeout: 30_000 });

  // An empty range is refused before anything trains, naming the parameter.
  await form.getByTestId('space-width-min').fill('8');
  await form.getByTestId('space-width-max').fill('8');
  await form.getByTestId('start-study').click();
  await expect(form.getByRole('alert')).toContainText('"width" has an empty range');
  expect(((await api('studies.list', {})) as unknown[]).length).toBe(before);

  await form.getByTestId('space-width-min').fill('4');
  await form.getByTestId('space-width-max').fill('48');
  await form.getByTestId('study-sampler').selectOption('random');
  await form.getByTestId('study-trials').fill('6');
  await form.getByTestId('study-steps').fill('40');
  await page.screenshot({ path: info.outputPath('study-new.png'), fullPage: true });
  await form.getByTestId('start-study').click();

  const details = page.getByTestId('study-details');
  await expect(details.getByTestId('study-training-now')).toBeVisible({ timeout: 60_000 });
  // The study's own progress: trials finished of those planned (and, once one has, about how long is left).
  await expect(details.getByTestId('study-overall')).toContainText(/of 6 trials/);
  await page.screenshot({ path: info.outputPath('study-live.png'), fullPage: true });
  await expect(details.getByTestId('study-progress')).toHaveText('6 of 6 trials', { timeout: 240_000 });
  await expect(details.getByTestId('study-training-now')).toBeHidden({ timeout: 120_000 });

  const id = (await details.locator('code.id').first().textContent()) as string;
  const { study, runs } = await api('studies.get', { id });
  const trials = study.trials as Array<{ state: string; value: number | null; runId: string }>;
  expect(trials).toHaveLength(6);
  expect(trials.every((t) => t.state === 'complete' || t.state === 'pruned')).toBe(true);
  for (const t of trials) {
    const run = (
      runs as Array<{ id: string; status: string; result: { bestValLoss: number; reason: string } | null }>
    ).find((r) => r.id === t.runId);
    expect(run?.status).toBe(t.state === 'complete' ? 'completed' : 'cancelled');
    // A pruned trial's run says so (the Runs view shows "pruned", not "cancelled").
    if (t.state === 'pruned') expect(run?.result?.reason).toBe('pruned by its study');
    if (t.state === 'complete') expect(t.value).toBe(run?.result?.bestValLoss);
  }
  const values = trials.flatMap((t) => (t.state === 'complete' ? [t.value as number] : []));
  await expect(details.getByTestId('study-best')).toContainText(Math.min(...values).toFixed(5));
  await expect(details.getByTestId('trials-table').locator('tbody tr')).toHaveCount(6);
  await expect(details.getByTestId('parallel-coordinates').locator('svg path')).toHaveCount(values.length);
  await expect(details.getByTestId('slice-plots').locator('figure')).toHaveCount(2);
  await page.screenshot({ path: info.outputPath('study-done.png'), fullPage: true });

  // Export the study: a PDF and a JSON whose summary names the best trial, listed in Reports.
  await details.getByRole('button', { name: 'Export report…' }).click();
  const dialog = page.getByTestId('export-dialog');
  await dialog.getByTestId('export-name').fill('study-e2e');
  await dialog.getByRole('button', { name: 'Export' }).click();
  await expect(dialog.getByRole('link', { name: 'study-e2e.json' })).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByRole('link', { name: 'study-e2e.pdf' })).toBeVisible();
  const exported = await (await page.request.get('/data/reports/study-e2e.json')).json();
  expect(exported.sweep.scope).toBe('study');
  expect(exported.study.trials).toHaveLength(6);
  expect(exported.summary).toContain(Math.min(...values).toFixed(5));
  await dialog.getByRole('button', { name: 'Done' }).click();
  await page.goto('/#/reports');
  const row = page.getByTestId('reports-table').locator('tr', { hasText: 'study-e2e.pdf' });
  await expect(row).toBeVisible();
  // Reveal: the file manager opens where there is one; either way the report's full path is shown.
  await row.getByRole('button', { name: 'Reveal' }).click();
  await expect(page.getByTestId('reveal-result')).toContainText('reports/study-e2e.pdf');
  await page.screenshot({ path: info.outputPath('reports.png'), fullPage: true });
});
