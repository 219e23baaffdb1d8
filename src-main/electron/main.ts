import { join } from 'node:path';
import { Readable } from 'node:stream';
import { app, BrowserWindow, ipcMain, protocol, session, shell } from 'electron';
import { channels, IsoflopError } from '../../src-shared/contract';
import { type App, createApp } from '../api';
import { unexpected } from '../api/router';
import { listReports } from '../export/reports';
import { dataPrefix, openDataFile } from '../server/data-files';
import { httpStatusOf, readRendererAsset, securityHeaders } from '../server/renderer-assets';
import { resolveDataDir } from '../store/data-dir';
import { printPdfWithElectron } from './print';
import {
  appEntryUrl,
  appHost,
  appScheme,
  ipcChannelOf,
  isAllowedExternalUrl,
  isTrustedSenderUrl,
  reportNameOfUrl,
  webGpuSwitches,
} from './security';

// Built to dist/electron/main.cjs; the renderer sits in dist/renderer.
const rendererDir = join(__dirname, '..', 'renderer');

for (const [name, value] of webGpuSwitches) app.commandLine.appendSwitch(name, value);

// Must run before the app is ready: a standard, secure scheme gets a real origin, fetch and workers.
protocol.registerSchemesAsPrivileged([
  {
    scheme: appScheme,
    privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true },
  },
]);

function storeFlag(): string | undefined {
  const index = process.argv.indexOf('--store');
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function serveRenderer(isoflop: App): void {
  protocol.handle(appScheme, async (request) => {
    const url = new URL(request.url);
    try {
      if (url.host !== appHost) throw new IsoflopError('FORBIDDEN', `Unknown host "${url.host}".`);
      if (url.pathname.startsWith(dataPrefix)) {
        const file = await openDataFile(isoflop, url.pathname, request.headers.get('range') ?? undefined);
        const body = file.body ? (Readable.toWeb(file.body) as ReadableStream<Uint8Array>) : null;
        return new Response(body, { status: file.status, headers: file.headers });
      }
      const asset = await readRendererAsset(rendererDir, url.pathname);
      return new Response(new Uint8Array(asset.body), {
        headers: { ...securityHeaders(), 'Content-Type': asset.contentType },
      });
    } catch (error) {
      const typed = error instanceof IsoflopError ? error.toJSON() : unexpected('The app protocol', error);
      const status = httpStatusOf[typed.code];
      return new Response(JSON.stringify({ ok: false, error: typed }), {
        status,
        headers: { ...securityHeaders(), 'Content-Type': 'application/json' },
      });
    }
  });
}

function registerApi(isoflop: App): void {
  const { router } = isoflop;
  // Only the contract's channels are handled; a call from any frame but the app's own gets FORBIDDEN.
  for (const channel of channels) {
    ipcMain.handle(ipcChannelOf(channel), async (event, payload: unknown) => {
      if (!isTrustedSenderUrl(event.senderFrame?.url) || event.senderFrame?.parent) {
        return {
          ok: false,
          error: { code: 'FORBIDDEN', message: 'Only the IsoFLOP window may call its API.' },
        };
      }
      return router.call(channel, payload, { transport: 'ipc' });
    });
  }
}

/** A report link (`target=_blank` to /data/reports/<name>): opened with the system's viewer, if it is a report. */
async function openReport(isoflop: App, name: string): Promise<void> {
  const known = await listReports(isoflop.dataDir);
  if (!known.some((report) => report.name === name)) return;
  const problem = await shell.openPath(join(isoflop.dataDir, 'reports', name));
  if (problem) console.error(`isoflop: could not open report ${name}: ${problem}`);
}

function lockDown(reports: { current: App | null }): void {
  // No permission prompts and no permission checks pass: the app needs no camera, microphone, location, etc.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Never a new window. A report opens in the system's viewer; documentation on an allowed host in the
      // user's browser; anything else nowhere.
      const report = reportNameOfUrl(url);
      if (report && reports.current) void openReport(reports.current, report);
      else if (isAllowedExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 600,
    title: 'IsoFLOP',
    backgroundColor: '#0f1117',
    show: false,
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      spellcheck: false,
      preload: join(__dirname, 'preload.cjs'),
    },
  });
  window.once('ready-to-show', () => window.show());
  void window.loadURL(appEntryUrl);
}

app.enableSandbox();
const current: { current: App | null } = { current: null };
lockDown(current);
app.whenReady().then(() => {
  let isoflop: App;
  try {
    isoflop = createApp(resolveDataDir({ flag: storeFlag() }), {
      prepareDemos: true,
      printPdf: printPdfWithElectron,
      reveal: async (path) => shell.showItemInFolder(path),
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    app.exit(1);
    return;
  }
  current.current = isoflop;
  serveRenderer(isoflop);
  registerApi(isoflop);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});
app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
