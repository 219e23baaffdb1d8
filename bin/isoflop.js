#!/usr/bin/env node
// The `isoflop` command: runs the built CLI, building it first in a fresh source checkout.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = new URL('../dist/cli/isoflop.js', import.meta.url);
const buildScript = new URL('../scripts/build.mjs', import.meta.url);

if (!existsSync(built)) {
  if (!existsSync(buildScript)) {
    process.stderr.write('isoflop: this installation is incomplete (dist/cli is missing). Reinstall IsoFLOP.\n');
    process.exit(1);
  }
  process.stderr.write('isoflop: first run in this checkout, building (about 20 s)...\n');
  const build = spawnSync(process.execPath, [fileURLToPath(buildScript)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (build.status !== 0) {
    process.stderr.write("isoflop: the build failed; run 'npm run build' to see why.\n");
    process.exit(1);
  }
}
await import(built.href);
