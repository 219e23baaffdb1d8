import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * The CSV importer reads on worker threads from a bundled script (dist/cli/table-worker.js in the
 * CLI). The unit tests import the TypeScript sources, which Node cannot start as a worker: bundle the
 * worker once for the run, as the build does, and name it to the importer.
 */
export async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'isoflop-test-worker-'));
  const outfile = join(dir, 'table-worker.mjs');
  await build({
    entryPoints: ['src-main/store/datasets/import/table-worker.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  process.env.ISOFLOP_TABLE_WORKER = outfile;
  return () => rmSync(dir, { recursive: true, force: true });
}
