import { join } from 'node:path';
import { Readable } from 'node:stream';
import { app, BrowserWindow, ipcMain, protocol, session, shell } from 'electron';
import { channels, IsoflopError } from '../../src-shared/contract';
import { type App, createApp } from '../api';
import { dataPrefix, openDataFile } from '../server/data-files';
import { httpStatusOf, readRendererAsset, securityHeaders } from '../server/renderer-assets';
import { resolveDataDir } from '../store/data-dir';
import { printPdfWithElectron } from './print';
import { appEntryUrl, appHost, appScheme, ipcChannelOf, isTrustedSenderUrl, webGpuSwitches } from './security';

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

function serveRenderer(app: App): void {
  protocol.handle(appScheme, async (request) => {
    const url = new URL(request.url);
    try {
      if (url.host !== appHost) throw new IsoflopError('FORBIDDEN', `Unknown host "${url.host}".`);
      if (url.pathname.startsWith(dataPrefix)) {
        const file = await openDataFile(app, url.pathname, request.headers.get('range') ?? undefined);
        const body = file.body ? (Readable.toWeb(file.body) as ReadableStream<Uint8Array>) : null;
        return new Response(body, { status: file.status, headers: file.headers });
      }
      const asset = await readRendererAsset(rendererDir, url.pathname);
      return new Response(new Uint8Array(asset.body), {
        headers: { ...securityHeaders(), 'Content-Type': asset.contentType },
      });
    } catch (error) {
      const typed = error instanceof IsoflopError ? error : new IsoflopError('INTERNAL', String(error));
      const status = httpStatusOf[typed.code];
      return new Response(JSON.stringify({ ok: false, error: typed.toJSON() }), {
        status,
        headers: { ...securityHeaders(), 'Content-Type': 'application/json' },
      });
    }
  });
}

function registerApi(app: App): void {
  const { router } = app;
  for (const channel of channels) {
    ipcMain.handle(ipcChannelOf(channel), async (event, payload: unknown) => {
      if (!isTrustedSenderUrl(event.senderFrame?.url)) {
        return {
          ok: false,
          error: { code: 'FORBIDDEN', message: 'Only the IsoFLOP window may call its API.' },
        };
      }
      return router.call(channel, payload, { transport: 'ipc' });
    });
  }
}

function lockDown(): void {
  // No permission prompts: the app needs none of camera, microphone, location or notifications.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Links to documentation open in the user's browser, never inside the app.
      if (url.startsWith('https://')) void shell.openExternal(url);
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
lockDown();
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
