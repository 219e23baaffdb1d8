import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src-shared/contract';
import { planSweep } from '../../src-shared/engine/planner';
import { ensureDataDir } from '../store/data-dir';
import { DatasetStore } from '../store/datasets/store';
import { RunStore } from '../store/runs';
import { SweepStore } from '../store/sweeps';
import { tempFolder } from '../testing';
import { executeRun } from './run-executor';
import { createSweep, runSweep } from './sweep';

// A small table dataset of our own, so the test does not wait for the 200k-row demo.
const folder = tempFolder();
let stores: { runs: RunStore; sweeps: SweepStore; datasets: DatasetStore };
let datasetId: string;

beforeAll(async () => {
  const dataDir = ensureDataDir(join(folder.dir, 'data'));
  stores = { runs: new RunStore(dataDir), sweeps: new SweepStore(dataDir), datasets: new DatasetStore(dataDir) };
  const lines = ['x1,x2,x3,y'];
  for (let i = 0; i < 3000; i++) {
    const x = [Math.sin(i * 1.3), Math.cos(i * 0.7), ((i * 37) % 100) / 50 - 1];
    lines.push(`${x.join(',')},${Math.tanh(2 * (x[0] as number) * (x[1] as number)) + 0.5 * (x[2] as number)}`);
  }
  const path = join(folder.dir, 'table.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  datasetId = (await stores.datasets.importFrom({ source: { path }, path, displayName: 'table.csv' })).id;
}, 60_000);
afterAll(() => folder.cleanup());

async function newSweep() {
  const dataset = await stores.datasets.get(datasetId);
  const plan = planSweep({ dataset, budgets: [2e6, 6e6], sizesPerBudget: 3, batchSize: 32 });
  return createSweep(stores, dataset, plan, { batchSize: 32, seed: 1 });
}

describe('headless sweeps', () => {
  it('plans sizes around each budget and trains every run to completion, smallest budget first', async () => {
    const sweep = await newSweep();
    expect(sweep.plan.length).toBe(6);
    for (const planned of sweep.plan)
      expect(planned.tokens * planned.flopsPerToken).toBeCloseTo(planned.budgetFlops, -1);
    const order: number[] = [];
    const runs = await runSweep(stores, sweep.id, {
      backend: 'cpu',
      onRunStart: (run) => order.push(run.config.budgetFlops),
    });
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (const run of runs) {
      expect(run.status).toBe('completed');
      expect(run.environment?.backend).toBe('cpu');
      expect(run.result?.valLoss).toBeGreaterThan(0);
      const metrics = await stores.runs.metrics(run.id);
      expect(metrics.at(-1)?.step).toBe(run.config.plannedSteps);
      expect(metrics.at(-1)?.valAccuracy).toBeNull(); // regression: no accuracy
    }
  }, 120_000);

  it('resumes an interrupted run from its checkpoint and ends where an uninterrupted one does', async () => {
    const sweep = await newSweep();
    const [first] = sweep.runIds;
    const reference = await executeRun(stores, first as string, { backend: 'cpu' });
    // The same run again, stopped part-way, then resumed.
    const again: RunRecord = {
      ...(await stores.runs.get(first as string)),
      id: `${first}-again`,
      status: 'queued',
      result: null,
      lastCheckpointStep: null,
      log: [],
    };
    await stores.runs.create(again);
    const control: { stop?: () => void } = {};
    let evals = 0;
    const stopped = await executeRun(stores, again.id, {
      backend: 'cpu',
      control,
      onMetrics: () => {
        evals++;
        if (evals === 7) control.stop?.();
      },
    });
    expect(stopped.status).toBe('interrupted');
    expect(stopped.lastCheckpointStep).toBeGreaterThan(0);
    const resumed = await executeRun(stores, again.id, { backend: 'cpu' });
    expect(resumed.status).toBe('completed');
    expect(resumed.result?.valLoss).toBe(reference.result?.valLoss);
    // The best loss before the pause comes back with the checkpoint.
    expect(resumed.result?.bestValLoss).toBe(reference.result?.bestValLoss);
    const steps = (await stores.runs.metrics(again.id)).map((m) => m.step);
    expect(new Set(steps).size).toBe(steps.length);
  }, 120_000);
});

describe('regularization', () => {
  it('sets L1, L2, weight decay, dropout and early stopping on every run of a sweep', async () => {
    const dataset = await stores.datasets.get(datasetId);
    const plan = planSweep({ dataset, budgets: [2e6], sizesPerBudget: 2, batchSize: 32 });
    const sweep = await createSweep(stores, dataset, plan, {
      batchSize: 32,
      seed: 1,
      regularization: { l1: 1e-5, l2: 1e-3, weightDecay: 0.05, dropout: 0.2, earlyStoppingPatience: 4 },
    });
    for (const id of sweep.runIds) {
      const { config } = await stores.runs.get(id);
      expect(config).toMatchObject({
        l1: 1e-5,
        l2: 1e-3,
        weightDecay: 0.05,
        earlyStopping: { patience: 4, restoreBest: true },
      });
      expect(config.model.dropout).toBe(0.2);
    }
  });
});

describe('run locks', () => {
  it('let one process claim a run, and take over a lock whose process is gone', async () => {
    const sweep = await newSweep();
    const id = sweep.runIds[0] as string;
    const release = await stores.runs.tryLock(id);
    expect(release).not.toBeNull();
    expect(await stores.runs.tryLock(id)).toBeNull();
    await release?.();
    // A lock left by a process that no longer exists on this host is stale.
    writeFileSync(
      join(stores.runs.folderOf(id), 'lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), at: new Date().toISOString() }),
    );
    const taken = await stores.runs.tryLock(id);
    expect(taken).not.toBeNull();
    await taken?.();
  });

  it('shards split a sweep between processes by run index', async () => {
    const sweep = await newSweep();
    const seen: string[][] = [[], []];
    for (const index of [0, 1]) {
      await runSweep(stores, sweep.id, {
        backend: 'cpu',
        shard: { index, count: 2 },
        onRunStart: (run) => seen[index]?.push(run.id),
      });
    }
    expect(seen[0]?.length).toBe(3);
    expect(seen[1]?.length).toBe(3);
    expect(new Set([...(seen[0] ?? []), ...(seen[1] ?? [])]).size).toBe(6);
  }, 120_000);
});

describe('run store faults', () => {
  it('skips a torn last line of metrics.jsonl and lists a damaged run.json as damaged', async () => {
    const sweep = await newSweep();
    const id = sweep.runIds[0] as string;
    await stores.runs.appendMetrics(id, {
      step: 1,
      tokens: 32,
      flops: 1,
      trainLoss: 1,
      valLoss: null,
      learningRate: 0.1,
      tokensPerSecond: 1,
      flopsPerSecond: 1,
      wallSeconds: 1,
    });
    appendFileSync(join(stores.runs.folderOf(id), 'metrics.jsonl'), '{"step": 2, "tok');
    expect((await stores.runs.metrics(id)).map((m) => m.step)).toEqual([1]);
    const other = sweep.runIds[1] as string;
    writeFileSync(join(stores.runs.folderOf(other), 'run.json'), '{ not json');
    const listed = await stores.runs.list();
    const damaged = listed.find((entry) => !entry.ok && entry.id === other);
    expect(damaged).toBeDefined();
    expect(listed.filter((entry) => entry.ok).length).toBeGreaterThan(0);
    expect(readFileSync(join(stores.runs.folderOf(id), 'run.json'), 'utf8')).toContain('"status"');
  });
});

describe('a full disk while appending metrics', () => {
  it('stops the run with a clear error, keeps the earlier metrics whole, and a torn line never stays', async () => {
    const dataDir = join(folder.dir, 'data');
    let appended = 0;
    let full = false;
    // Writes half of the fourth line, then fails the way a full disk does.
    const fullingDisk = async (path: string, text: string) => {
      if (full || ++appended === 4) {
        full = true;
        appendFileSync(path, text.slice(0, text.length >> 1));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      }
      appendFileSync(path, text);
    };
    const runs = new RunStore(dataDir, fullingDisk);
    const sweep = await newSweep();
    const id = sweep.runIds[sweep.runIds.length - 1] as string;
    const run = await executeRun({ runs, datasets: stores.datasets }, id, { backend: 'cpu' });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/The disk is full: run .* stopped; its metrics up to now are intact/);
    const kept = await stores.runs.metrics(id);
    expect(kept.map((row) => row.step)).toHaveLength(3);
    const text = readFileSync(join(dataDir, 'runs', id, 'metrics.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(3);
  }, 120_000);
});

describe('classification runs', () => {
  it('record validation accuracy at every evaluation, and it beats chance', async () => {
    const lines = ['x1,x2,label'];
    for (let i = 0; i < 3000; i++) {
      const [x1, x2] = [Math.sin(i * 1.7), Math.cos(i * 0.9)];
      lines.push(`${x1},${x2},${x1 + x2 > 0.4 ? 'high' : x1 - x2 > 0 ? 'left' : 'low'}`);
    }
    const path = join(folder.dir, 'classes.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const dataset = await stores.datasets.importFrom({ source: { path }, path, displayName: 'classes.csv' });
    expect(dataset.kind === 'table' && dataset.task).toBe('classification');
    const plan = planSweep({ dataset, budgets: [3e7], sizesPerBudget: 1, batchSize: 32 });
    const sweep = await createSweep(stores, dataset, plan, { batchSize: 32, seed: 1 });
    const run = await executeRun(stores, sweep.runIds[0] as string, { backend: 'cpu' });
    expect(run.status, JSON.stringify({ result: run.result, config: run.config, plan })).toBe('completed');
    const metrics = await stores.runs.metrics(run.id);
    const accuracies = metrics.filter((row) => row.valLoss !== null).map((row) => row.valAccuracy);
    expect(accuracies.length).toBeGreaterThan(2);
    for (const accuracy of accuracies) {
      expect(accuracy).toBeGreaterThanOrEqual(0);
      expect(accuracy).toBeLessThanOrEqual(1);
    }
    expect(accuracies.at(-1)).toBeGreaterThan(0.6); // three classes: chance is about 1/3
  }, 120_000);
});
