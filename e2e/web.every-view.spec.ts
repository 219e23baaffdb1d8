import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, serverFor, test } from './fixtures';

/**
 * Every view with data in it (a sweep, a study, a cross-validation and a report from the CLI). At 900 px
 * wide: nothing scrolls sideways, no control sticks out past the content's edge (tables that are wider
 * scroll inside their own box), no button's label is cut, and the sidebar folds to its icons and back.
 * In light and dark: axe-core finds no serious or critical accessibility violation.
 */

const cli = (store: string, ...args: string[]) => {
  const result = spawnSync(process.execPath, ['bin/isoflop.js', ...args, '--store', store], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
};

/** What sticks out of the content area at this width: sideways scrolling, controls past its edge, cut labels. */
function problems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const main = document.querySelector('main') as HTMLElement;
    const edge = main.getBoundingClientRect().right;
    const out: string[] = [];
    if (main.scrollWidth > main.clientWidth + 1)
      out.push(`the view scrolls ${main.scrollWidth - main.clientWidth}px sideways`);
    const page = document.documentElement;
    if (page.scrollWidth > page.clientWidth + 1)
      out.push(`the page scrolls ${page.scrollWidth - page.clientWidth}px sideways`);
    const scrolls = (el: Element) => {
      for (let box = el.parentElement; box && box !== main; box = box.parentElement)
        if (/(auto|scroll)/.test(getComputedStyle(box).overflowX)) return true;
      return false;
    };
    // A table wider than its card spills over the card beside it unless it scrolls in its own box.
    for (const table of Array.from(main.querySelectorAll('table'))) {
      const card = table.closest('.card');
      if (!card || scrolls(table)) continue;
      const past = table.getBoundingClientRect().right - card.getBoundingClientRect().right;
      if (past > 1) out.push(`a table (${table.className || 'unnamed'}) ends ${Math.round(past)}px past its card`);
    }
    for (const el of Array.from(main.querySelectorAll('button, a, input, select, h1, h2, code'))) {
      const rect = el.getBoundingClientRect();
      const name = `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
      if (rect.width === 0 || scrolls(el)) continue;
      if (rect.right > edge + 1) out.push(`${name} ends ${Math.round(rect.right - edge)}px past the edge`);
      if (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1) out.push(`${name} has its label cut`);
      if (el.tagName === 'CODE' && (el.textContent ?? '').length > 12 && rect.width < 80)
        out.push(`${name} is squeezed to ${Math.round(rect.width)}px`);
    }
    return out;
  });
}

const views = ['start', 'datasets', 'sweeps', 'runs', 'studies', 'frontier', 'reports', 'system'] as const;

/** Opens a view and waits for its data. */
async function open(page: Page, view: (typeof views)[number]): Promise<void> {
  await page.goto(`/#/${view}`);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  if (view === 'start') await expect(page.getByTestId('start-frontier')).toContainText('enough to fit');
  if (view === 'datasets') {
    // The table demo: its wide preview scrolls sideways inside its own box.
    await page
      .getByRole('list', { name: 'Datasets' })
      .getByRole('button', { name: /Teacher/ })
      .click();
    await expect(page.getByTestId('dataset-preview')).toBeVisible({ timeout: 20_000 });
  }
  if (view === 'sweeps') await expect(page.getByTestId('sweep-details')).toContainText('6 of 6 completed');
  if (view === 'studies') await page.getByRole('list', { name: 'Studies' }).getByRole('button').first().click();
  if (view === 'runs') {
    await page.getByTestId('runs-table').locator('tbody tr.clickable').nth(1).click();
    await expect(page.getByTestId('run-details')).toBeVisible();
  }
  if (view === 'frontier') await expect(page.getByTestId('law-table')).toBeVisible({ timeout: 60_000 });
  if (view === 'reports') await expect(page.getByTestId('reports-table')).toBeVisible();
  await page.waitForTimeout(300);
}

test.beforeAll(async () => {
  test.setTimeout(240_000);
  const { store } = await serverFor(test.info().file);
  const sweep = JSON.parse(cli(store, 'sweep', '--demo', 'teacher', '--budgets', '1e6,3e6', '--sizes', '3', '--json'));
  cli(store, 'cv', '--dataset', 'demo-teacher', '--k', '3', '--steps', '40');
  const space = `${store}/space.json`;
  writeFileSync(space, JSON.stringify({ learningRate: { type: 'log', min: 1e-3, max: 3e-2 } }));
  cli(
    store,
    'tune',
    '--dataset',
    'demo-teacher',
    '--space',
    space,
    '--sampler',
    'random',
    '--trials',
    '3',
    '--steps',
    '40',
  );
  cli(
    store,
    'report',
    '--sweep',
    sweep.sweepId,
    '--format',
    'json',
    '--out',
    `${store}/reports/${sweep.sweepId}-2026-12-03T15-00-00-000Z.json`,
  );
});

/**
 * Opens every view at this width, keeps a screenshot of each, and asserts nothing sticks out; in `view`, the
 * table box `selector` must also show all its columns without scrolling.
 */
async function everyViewFits(
  page: Page,
  outputPath: (name: string) => string,
  width: number,
  scrollBox: { view: (typeof views)[number]; selector: string; what: string },
): Promise<void> {
  for (const view of views) {
    await open(page, view);
    await page.screenshot({ path: outputPath(`${view}-${width}.png`) });
    expect(await problems(page), `the ${view} view at ${width} px`).toEqual([]);
    if (view === scrollBox.view) {
      const hidden = await page.locator(scrollBox.selector).evaluate((box) => box.scrollWidth - box.clientWidth);
      expect(hidden, `${scrollBox.what} at ${width} px: pixels scrolled out of view`).toBeLessThanOrEqual(1);
    }
  }
}

test.describe('web mode at 1280 px', () => {
  test.use({ viewport: { width: 1280, height: 800 } });

  test('every view fits beside the full sidebar: nothing past its edge or its card', async ({ page }, info) => {
    test.setTimeout(120_000);
    // The approaches table fits half the window: its box never needs to scroll.
    await everyViewFits(page, (name) => info.outputPath(name), 1280, {
      view: 'frontier',
      selector: '.approaches-scroll',
      what: 'the approaches table',
    });
  });
});

test.describe('web mode at 900 px', () => {
  test.use({ viewport: { width: 900, height: 800 } });

  test('every view fits: no sideways scrolling, nothing past the edge, no cut labels', async ({ page }, info) => {
    test.setTimeout(120_000);
    // The Runs table fits too: its Time column and the runs' actions in view without scrolling its box.
    await everyViewFits(page, (name) => info.outputPath(name), 900, {
      view: 'runs',
      selector: '.runs-scroll',
      what: 'the Runs table',
    });
  });

  test('the sidebar folds to its icons below 1,100 px, keeps their names, and unfolds on request', async ({ page }) => {
    await page.goto('/#/sweeps');
    const sidebar = page.getByTestId('sidebar');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Runs' })).toBeVisible();
    expect((await sidebar.boundingBox())?.width).toBeLessThan(80);
    const toggle = page.getByTestId('sidebar-toggle');
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await toggle.click();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    expect((await sidebar.boundingBox())?.width).toBeGreaterThan(200);
    await expect(nav.getByText('Studies')).toBeVisible();
    // The choice is remembered across a reload.
    await page.reload();
    await expect(page.getByTestId('sidebar-toggle')).toHaveAttribute('aria-expanded', 'true');
    await page.getByTestId('sidebar-toggle').click();
    await nav.getByRole('link', { name: 'Frontier' }).click();
    await expect(page).toHaveURL(/#\/frontier$/);
  });
});

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`accessibility, ${colorScheme}`, () => {
    test.use({ colorScheme });

    test(`axe finds no serious or critical violation on any view (${colorScheme})`, async ({ page }) => {
      test.setTimeout(120_000);
      const found: string[] = [];
      for (const view of views) {
        await open(page, view);
        const { violations } = await new AxeBuilder({ page }).analyze();
        for (const v of violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'))
          found.push(`${view}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
      expect(found).toEqual([]);
    });
  });
}
