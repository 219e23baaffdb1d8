// `npm start`: builds, then launches the desktop app. Where the Electron binary is missing (npm skips
// its download script) it runs Electron's own installer once; if that cannot fetch it, it says what to do.
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

let binary = electronBinary();
if (!binary) {
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
        "npm does not run Electron's download step itself, and this machine may not reach the servers",
        "that host the binary. Either run 'node node_modules/electron/install.js' on a network that can,",
        "or use the same app in your browser: 'npm run web' serves it on http://127.0.0.1:4173 (open the",
        'address it prints, token included, in Chrome, Edge or Chromium for WebGPU).',
        '',
      ].join('\n'),
    );
    process.exit(1);
  }
}

// Chromium refuses to start as root with its sandbox on; say so rather than failing obscurely.
const args = ['dist/electron/main.cjs', ...passThrough];
if (process.platform === 'linux' && process.getuid?.() === 0) {
  console.log('Running as root: starting Electron with --no-sandbox, as Chromium requires.');
  args.unshift('--no-sandbox');
}
const child = spawn(binary, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
