import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm start` where Electron cannot be had: the README's first command still runs the app, in web mode,
// saying why and printing the address (opening a browser is skipped here with ISOFLOP_NO_BROWSER).
const root = fileURLToPath(new URL('..', import.meta.url));

describe('npm start without Electron', () => {
  it('starts in web mode where Electron is not to be used, says so, and serves the app', async () => {
    const store = mkdtempSync(join(tmpdir(), 'isoflop-start-'));
    const child = spawn(process.execPath, ['scripts/start-electron.mjs', '--store', store, '--port', '0'], {
      cwd: root,
      // The web-mode path a failed Electron download also takes, without trying the download (which a
      // machine with a network would make).
      env: { ...process.env, ISOFLOP_NO_ELECTRON: '1', ISOFLOP_NO_BROWSER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const match = /serving on (\S+)/.exec(out);
          if (match) resolve(match[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out}\n${err}`)));
      });
      expect(err).toContain('IsoFLOP starts in web mode, the same app in your browser');
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app"');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(out).toContain('No browser could be opened from here');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(store, { recursive: true, force: true });
    }
  }, 180_000);
});
