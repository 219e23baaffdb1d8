import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../src-shared/engine/tf';
import { ensureDataDir } from '../store/data-dir';
import { DatasetStore } from '../store/datasets/store';
import { queuedRun, RunStore } from '../store/runs';
import { tempFolder, tinyRunConfig } from '../testing';
import { executeRun } from './run-executor';

/**
 * Soak: one run of thousands of tiny steps through the real executor (metrics appended, checkpoints saved and
 * pruned), watching live tensors and the JS heap. Both must be flat from the first evaluations to the last.
 */

const steps = 10_000;
const evalEvery = (every: number, last: number) => Array.from({ length: last / every }, (_, i) => (i + 1) * every);
const folder = tempFolder();
afterAll(() => folder.cleanup());

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 ** 2;
}

describe('soak', () => {
  it(`trains ${steps} steps with a flat tensor count and a flat heap`, async () => {
    const dataDir = ensureDataDir(join(folder.dir, 'data'));
    const stores = { runs: new RunStore(dataDir), datasets: new DatasetStore(dataDir, undefined, 1) };
    const csv = join(folder.dir, 'soak.csv');
    const rows = Array.from(
      { length: 3_000 },
      (_, i) => `${Math.sin(i)},${Math.cos(i * 0.3)},${Math.sin(i) * Math.cos(i)}`,
    );
    writeFileSync(csv, `a,b,y\n${rows.join('\n')}\n`);
    const dataset = await stores.datasets.importFrom({ source: { path: csv }, path: csv, displayName: 'soak.csv' });
    const config = {
      ...tinyRunConfig(dataset.id, { inputs: 2, width: 16, depth: 2 }, steps, evalEvery(100, steps)),
      seed: 3,
    };
    await stores.runs.create(queuedRun('run-soak', 'soak', null, config));
    const samples: Array<{ step: number; tensors: number; heapMb: number }> = [];
    const run = await executeRun(stores, 'run-soak', {
      backend: 'cpu',
      onMetrics: (_run, metrics) => {
        if (metrics.step === 1_000 || metrics.step === steps / 2 || metrics.step === steps)
          samples.push({ step: metrics.step, tensors: tf.memory().numTensors, heapMb: heapMb() });
      },
    });
    expect(run.status).toBe('completed');
    const [start, middle, end] = samples as [(typeof samples)[0], (typeof samples)[0], (typeof samples)[0]];
    console.log(
      `Soak: ${steps} steps; live tensors ${start.tensors} at step ${start.step}, ${middle.tensors} at ${middle.step}, ` +
        `${end.tensors} at ${end.step}; JS heap ${start.heapMb.toFixed(1)} MB, ${middle.heapMb.toFixed(1)} MB, ${end.heapMb.toFixed(1)} MB`,
    );
    expect(end.tensors).toBe(start.tensors);
    // Flat: growth from the middle to the end no more than a couple of MB (metrics rows, the log).
    expect(end.heapMb - middle.heapMb).toBeLessThan(3);
  }, 300_000);
});
