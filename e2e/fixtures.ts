import { test as base, expect } from '@playwright/test';

/** A spec's `test` whose page fails the test on any uncaught error in the page. */
export const test = base.extend({
  page: async ({ page }, use) => {
    page.on('pageerror', (error) => {
      throw error;
    });
    await use(page);
  },
});

export { expect };
