import { fileURLToPath } from 'node:url';
import { runCli } from './main';

// Built to dist/cli/isoflop.js; the renderer sits beside it in dist/renderer.
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));

// `isoflop runs list | head`: a closed pipe ends the command quietly, as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// One progress line, redrawn in place; `final` moves on to a new line if one was drawn.
let progressShown = false;
function drawProgress(text: string, final: boolean): void {
  if (final) {
    if (progressShown || text) process.stderr.write(text ? `\r\x1b[2K${text}\n` : '\n');
    progressShown = false;
    return;
  }
  process.stderr.write(`\r\x1b[2K${text}`);
  progressShown = true;
}

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: process.stderr.isTTY ? drawProgress : undefined,
  rendererDir,
  env: process.env,
  untilStopped: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
});
process.exitCode = code;
