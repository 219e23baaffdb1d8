import { fileURLToPath } from 'node:url';
import { runCli } from './main';

// Built to dist/cli/isoflop.js; the renderer sits beside it in dist/renderer.
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  rendererDir,
  env: process.env,
  untilStopped: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
});
process.exitCode = code;
