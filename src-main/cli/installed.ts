import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped at the package's root (bin/isoflop.js, bench/torch_gpt.py), found upwards from this
 * module: the source tree in tests, dist/cli when built. `use` says what it is needed for, for the error.
 */
export function installedFile(relative: string, use: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`${relative} is missing from this installation: ${use}`);
}
