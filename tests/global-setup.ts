import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { nodeEsmBanner } from '../scripts/node-esm-banner.mjs';

/**
 * The CSV importer reads on worker threads from a bundled script (dist/cli/table-worker.js in the
 * CLI), as data-parallel training does (dist/cli/gradient-worker.js). The unit tests import the
 * TypeScript sources, which Node cannot start as a worker: bundle each worker once for the run, as the
 * build does, and name it to its user.
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
  // Data parallelism's helper threads (training/gradient-helpers.ts), the same way.
  const gradients = join(dir, 'gradient-worker.mjs');
  await build({
    entryPoints: ['src-main/training/gradient-worker.ts'],
    outfile: gradients,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: ['webgpu'],
    banner: nodeEsmBanner,
    define: { __ISOFLOP_VERSION__: '"test"' },
    logLevel: 'warning',
  });
  process.env.ISOFLOP_GRADIENT_WORKER = gradients;
  return () => rmSync(dir, { recursive: true, force: true });
}
