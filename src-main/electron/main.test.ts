import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channels } from '../../src-shared/contract/api';
import { tempFolder } from '../testing';
import { appEntryUrl, ipcChannelOf } from './security';

/**
 * main.ts run for real against a recording stand-in for the `electron` module (the binary cannot be fetched
 * here): what it asks Electron to do is checked, and the handlers it registers are called as Electron would.
 */

type Handler = (...args: unknown[]) => unknown;
const recorded = vi.hoisted(() => ({
  switches: [] as Array<[string, string | undefined]>,
  schemes: [] as unknown[],
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  ipcHandlers: new Map<string, Handler>(),
  appEvents: new Map<string, Handler>(),
  windows: [] as Array<{ options: Record<string, unknown>; loaded: string[] }>,
  permissionRequest: null as Handler | null,
  permissionCheck: null as Handler | null,
  openedExternal: [] as string[],
  openedPaths: [] as string[],
  sandboxEnabled: false,
}));

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => recorded.windows;
    webContents = { printToPDF: async () => new Uint8Array() };
    private readonly record: { options: Record<string, unknown>; loaded: string[] };
    constructor(options: Record<string, unknown>) {
      this.record = { options, loaded: [] };
      recorded.windows.push(this.record);
    }
    once() {}
    loadURL(url: string) {
      this.record.loaded.push(url);
      return Promise.resolve();
    }
    show() {}
    destroy() {}
  }
  const app = {
    commandLine: {
      appendSwitch: (name: string, value?: string) => recorded.switches.push([name, value]),
    },
    enableSandbox: () => {
      recorded.sandboxEnabled = true;
    },
    on: (event: string, handler: Handler) => recorded.appEvents.set(event, handler),
    whenReady: () => Promise.resolve(),
    quit: () => undefined,
    exit: () => undefined,
  };
  return {
    app,
    BrowserWindow,
    ipcMain: { handle: (channel: string, handler: Handler) => recorded.ipcHandlers.set(channel, handler) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => recorded.schemes.push(...schemes),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
        recorded.protocolHandlers.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: Handler) => {
          recorded.permissionRequest = handler;
        },
        setPermissionCheckHandler: (handler: Handler) => {
          recorded.permissionCheck = handler;
        },
      },
    },
    shell: {
      openExternal: async (url: string) => {
        recorded.openedExternal.push(url);
      },
      openPath: async (path: string) => {
        recorded.openedPaths.push(path);
        return '';
      },
      showItemInFolder: () => undefined,
    },
  };
});

const folder = tempFolder();
const dataDir = join(folder.dir, 'data');

beforeAll(async () => {
  process.env.ISOFLOP_HOME = dataDir;
  await import('./main');
  // whenReady's callback runs on the next turns.
  await vi.waitFor(() => expect(recorded.windows.length).toBe(1));
});
afterAll(() => {
  delete process.env.ISOFLOP_HOME;
  folder.cleanup();
});

/** A web contents as Electron hands one to 'web-contents-created'. */
function fakeContents() {
  const events = new EventEmitter();
  let openHandler: ((details: { url: string }) => { action: string }) | null = null;
  const contents = Object.assign(events, {
    setWindowOpenHandler: (handler: typeof openHandler) => {
      openHandler = handler;
    },
  });
  recorded.appEvents.get('web-contents-created')?.({}, contents);
  return {
    prevented(event: string, ...args: unknown[]) {
      let prevented = false;
      events.emit(event, { preventDefault: () => (prevented = true) }, ...args);
      return prevented;
    },
    open: (url: string) => openHandler?.({ url }),
  };
}

const ipcEvent = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } });

describe('the Electron main process (stubbed electron)', () => {
  it('opens one window with context isolation, the sandbox, no Node and web security, on the app protocol', () => {
    const [window] = recorded.windows;
    const prefs = window?.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
    });
    expect(prefs).not.toHaveProperty('allowRunningInsecureContent');
    expect(prefs).not.toHaveProperty('experimentalFeatures');
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs).not.toHaveProperty('webviewTag');
    expect(String(prefs.preload)).toMatch(/preload\.cjs$/);
    expect(window?.loaded).toEqual([appEntryUrl]);
    expect(recorded.sandboxEnabled).toBe(true);
    expect(recorded.schemes).toEqual([
      expect.objectContaining({
        scheme: 'isoflop',
        privileges: expect.objectContaining({ standard: true, secure: true }),
      }),
    ]);
    expect(recorded.switches.map(([name]) => name)).toContain('enable-unsafe-webgpu');
  });

  it('grants no permission, asked or checked', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      const callback = vi.fn();
      recorded.permissionRequest?.({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(recorded.permissionCheck?.({}, permission)).toBe(false);
    }
  });

  it('refuses navigation, redirects, webviews and new windows', () => {
    const contents = fakeContents();
    expect(contents.prevented('will-navigate', 'https://evil.example/')).toBe(true);
    expect(contents.prevented('will-navigate', `${appEntryUrl}#/runs`)).toBe(true);
    expect(contents.prevented('will-redirect', 'https://evil.example/')).toBe(true);
    expect(contents.prevented('will-attach-webview', {}, {})).toBe(true);
    for (const url of ['https://evil.example/', 'http://github.com/', 'file:///etc/passwd', 'isoflop://app/index.html'])
      expect(contents.open(url)).toEqual({ action: 'deny' });
    expect(recorded.openedExternal).toEqual([]);
  });

  it('opens documentation hosts on the allowlist in the browser, nothing else', () => {
    const contents = fakeContents();
    expect(contents.open('https://github.com/tensorflow/tfjs')).toEqual({ action: 'deny' });
    expect(contents.open('https://user:pw@github.com/')).toEqual({ action: 'deny' });
    expect(contents.open('https://github.com.evil.example/')).toEqual({ action: 'deny' });
    expect(recorded.openedExternal).toEqual(['https://github.com/tensorflow/tfjs']);
  });

  it("opens a report link with the system's viewer, and only a report that exists", async () => {
    mkdirSync(join(dataDir, 'reports'), { recursive: true });
    writeFileSync(join(dataDir, 'reports', 'check-1.json'), '{}');
    const contents = fakeContents();
    // The refused ones first: by the time the good one has opened, they have had their chance too.
    contents.open('isoflop://app/data/reports/missing.json');
    contents.open('isoflop://app/data/reports/..%2f..%2fsecret.json');
    expect(contents.open('isoflop://app/data/reports/check-1.json')).toEqual({ action: 'deny' });
    await vi.waitFor(() => expect(recorded.openedPaths.length).toBeGreaterThan(0));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(recorded.openedPaths).toEqual([join(dataDir, 'reports', 'check-1.json')]);
  });

  it("handles exactly the contract's channels, and answers a foreign frame with FORBIDDEN", async () => {
    expect([...recorded.ipcHandlers.keys()].sort()).toEqual(channels.map(ipcChannelOf).sort());
    const info = recorded.ipcHandlers.get(ipcChannelOf('system.info')) as Handler;
    expect(await info(ipcEvent(appEntryUrl), {})).toMatchObject({ ok: true, value: { transport: 'ipc', dataDir } });
    for (const event of [
      ipcEvent('https://evil.example/'),
      ipcEvent('isoflop://evil/index.html'),
      ipcEvent('file:///index.html'),
      ipcEvent(appEntryUrl, { url: 'https://evil.example/' }),
      {},
    ]) {
      expect(await info(event, {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    }
    const runs = recorded.ipcHandlers.get(ipcChannelOf('runs.get')) as Handler;
    expect(await runs(ipcEvent(appEntryUrl), { id: '../../etc' })).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
  });

  it('serves the app protocol on its own host only, and refuses traversal', async () => {
    const handle = recorded.protocolHandlers.get('isoflop') as (request: Request) => Promise<Response>;
    expect(handle).toBeDefined();
    const foreign = await handle(new Request('isoflop://evil/index.html'));
    expect(foreign.status).toBe(403);
    for (const path of [
      '/data/datasets/..%2f..%2fsecret/train.bin',
      '/data/runs/x/checkpoints/1/..%2f..%2frun.json',
      '/data/reports/..%2fsecret.json',
      '/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      const reply = await handle(new Request(`isoflop://app${path}`));
      expect([400, 403, 404], path).toContain(reply.status);
      expect(reply.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
  });
});
