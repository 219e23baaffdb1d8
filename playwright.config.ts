import { randomBytes } from 'node:crypto';
import { defineConfig } from '@playwright/test';

// Web mode in Debian's Chromium (never a downloaded browser); the Electron spec skips where its binary is missing.
const port = Number(process.env.ISOFLOP_E2E_PORT ?? 41731);
export const e2eStore = 'e2e/.store';
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
    baseURL: `http://127.0.0.1:${port}`,
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
  webServer: {
    command: `rm -rf ${e2eStore} && ISOFLOP_TOKEN=${e2eToken} node bin/isoflop.js serve --port ${port} --store ${e2eStore}`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
  },
});
