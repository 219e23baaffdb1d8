import { randomBytes } from 'node:crypto';
import { defineConfig } from '@playwright/test';

// Web mode in Debian's Chromium (never a downloaded browser); the Electron spec skips where its binary is missing.
// Each spec file starts its own server over a fresh data folder (e2e/fixtures.ts), so specs run alone.
/**
 * The web server's token for this run of the specs (random; set in the environment so the worker processes,
 * which load this file again, agree): every request of theirs carries it as a bearer token.
 */
process.env.ISOFLOP_E2E_TOKEN ??= randomBytes(16).toString('hex');
export const e2eToken = process.env.ISOFLOP_E2E_TOKEN;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    extraHTTPHeaders: { Authorization: `Bearer ${e2eToken}` },
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
  },
  projects: [
    { name: 'web', testMatch: /web\..*spec\.ts/ },
    { name: 'electron', testMatch: /electron\..*spec\.ts/ },
  ],
});
