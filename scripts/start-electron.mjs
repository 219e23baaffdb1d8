// `npm start`: builds, then launches the desktop app. Where the Electron binary is missing (npm skips
// its download script) it runs Electron's own installer once; if that cannot fetch it, the same app starts in
// web mode instead (`isoflop serve`), in the system browser where there is one, and says why.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const passThrough = process.argv.slice(2);

function electronBinary() {
  try {
    return require('electron');
  } catch {
    return undefined;
  }
}

function firstLine(text) {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.length > 0 && !line.startsWith('at ')) ?? ''
  );
}

const build = spawnSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error("\nIsoFLOP did not build (see above). Fix the error, then run 'npm start' again.");
  process.exit(1);
}

// ISOFLOP_NO_ELECTRON=1: web mode without trying Electron (a machine that should not download it; tests).
const skipElectron = Boolean(process.env.ISOFLOP_NO_ELECTRON);
let binary = skipElectron ? undefined : electronBinary();
if (skipElectron) {
  console.error('ISOFLOP_NO_ELECTRON is set: IsoFLOP starts in web mode, the same app in your browser.');
} else if (!binary) {
  console.log("The Electron binary is not installed yet; running Electron's installer to fetch it...");
  let installer;
  try {
    installer = require.resolve('electron/install.js');
  } catch {
    installer = undefined;
  }
  const install = installer
    ? spawnSync(process.execPath, [installer], { cwd: root, encoding: 'utf8', timeout: 300_000 })
    : { status: 1, stderr: 'the electron package is not installed (run npm ci)', stdout: '' };
  binary = electronBinary();
  if (!binary) {
    const reason = firstLine(`${install.stderr ?? ''}\n${install.stdout ?? ''}`) || 'the download did not finish';
    console.error(
      [
        '',
        'IsoFLOP cannot open its desktop window: the Electron binary is not installed, and',
        "Electron's installer could not fetch it.",
        `  (${reason})`,
        'It starts in web mode instead: the same app, in your browser. For the desktop window, run',
        "'node node_modules/electron/install.js' on a network that can reach Electron's downloads.",
        '',
      ].join('\n'),
    );
  }
}

/** Opens `url` in the system browser where there is one; says so where there is none. */
function openBrowser(url) {
  const say = () =>
    console.log('No browser could be opened from here: open the address above in Chrome, Edge or Chromium.');
  if (process.env.ISOFLOP_NO_BROWSER) return say();
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  const opener = spawn(command, args, { stdio: 'ignore', detached: true });
  opener.on('error', say);
  opener.on('exit', (code) => code !== 0 && say());
  opener.unref();
}

/** Web mode: `isoflop serve` on the same data folder, its address printed and opened. */
function startWebMode() {
  const child = spawn(process.execPath, ['bin/isoflop.js', 'serve', ...passThrough], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  let opened = false;
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const match = /serving on (\S+)/.exec(String(chunk));
    if (match && !opened) {
      opened = true;
      openBrowser(match[1]);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
}

if (!binary) {
  startWebMode();
} else {
  // Chromium refuses to start as root with its sandbox on; say so rather than failing obscurely.
  const args = ['dist/electron/main.cjs', ...passThrough];
  if (process.platform === 'linux' && process.getuid?.() === 0) {
    console.log('Running as root: starting Electron with --no-sandbox, as Chromium requires.');
    args.unshift('--no-sandbox');
  }
  const child = spawn(binary, args, { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
}
