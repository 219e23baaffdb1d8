import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src-shared/contract';
import { encodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { openDataFile } from '../server/data-files';
import { queuedRun } from '../store/runs';
import { saveUpload } from '../store/uploads';
import { tempFolder } from '../testing';
import { type App, createApp } from './index';

let folder: ReturnType<typeof tempFolder>;
let app: App;

beforeEach(() => {
  folder = tempFolder();
  app = createApp(join(folder.dir, 'data'));
});
afterEach(() => folder.cleanup());

const config: RunConfig = {
  datasetId: 'demo-teacher',
  model: {
    family: 'mlp',
    inputs: 8,
    width: 16,
    depth: 2,
    activation: 'tanh',
    dropout: 0,
    task: 'regression',
    outputs: 1,
  },
  batchSize: 32,
  budgetFlops: 1e7,
  plannedTokens: 10_000,
  plannedSteps: 300,
  peakLearningRate: 1e-3,
  warmupSteps: 10,
  weightDecay: 0,
  l1: 0,
  l2: 0,
  earlyStopping: null,
  fold: null,
  seed: 1,
  evalSteps: [100, 200, 300],
};

const call = <T>(channel: string, input: unknown) =>
  app.router.invoke(channel as never, input as never, { transport: 'ipc' }) as Promise<T>;

describe('run actions over the API', () => {
  it('cancels a waiting run, re-runs an ended one from scratch, and refuses the rest', async () => {
    await app.runs.create(queuedRun('run-a', 'run a', null, config));
    const cancelled = await call<{ status: string }>('runs.cancel', { id: 'run-a' });
    expect(cancelled.status).toBe('cancelled');
    expect((await app.runs.get('run-a')).status).toBe('cancelled');
    await expect(call('runs.cancel', { id: 'run-a' })).rejects.toMatchObject({ code: 'CONFLICT' });
    // The store keeps to the run state machine whoever asks: a cancelled run does not finish or resume.
    await expect(
      call('runs.finish', { id: 'run-a', status: 'completed', result: null, error: null }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('it cannot become completed') });
    await expect(app.runs.update('run-a', { status: 'interrupted' })).rejects.toMatchObject({ code: 'CONFLICT' });

    // A run that trained: metrics and a checkpoint on disk.
    const row = {
      step: 100,
      tokens: 3200,
      flops: 1e6,
      trainLoss: 1,
      valLoss: 1.1,
      learningRate: 1e-3,
      tokensPerSecond: 1,
      flopsPerSecond: 1,
      wallSeconds: 1,
    };
    await app.runs.appendMetrics('run-a', row);
    const checkpoints = join(folder.dir, 'data', 'runs', 'run-a', 'checkpoints', '100');
    mkdirSync(checkpoints, { recursive: true });
    writeFileSync(join(checkpoints, 'model.json'), '{}');
    const requeued = await call<{ status: string; result: unknown }>('runs.requeue', { id: 'run-a' });
    expect(requeued.status).toBe('queued');
    expect(requeued.result).toBeNull();
    expect(await app.runs.metrics('run-a')).toEqual([]);
    expect(existsSync(checkpoints)).toBe(false);
    await expect(call('runs.requeue', { id: 'run-a' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('queued already'),
    });

    await app.runs.update('run-a', { status: 'running' });
    await expect(call('runs.cancel', { id: 'run-a' })).rejects.toMatchObject({
      message: expect.stringContaining('stop it first'),
    });
    await expect(call('runs.cancel', { id: 'no-such-run' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

function checkpointAt(step: number) {
  return encodeCheckpoint({
    step,
    tokens: step * 32,
    flops: step * 1e4,
    wallSeconds: step / 10,
    adamStep: step,
    bestLoss: 0.5,
    sampler: { kind: 'rows', epoch: 0, position: step * 32 },
    tensors: [
      { name: 'w', shape: [2, 3], values: Float32Array.from({ length: 6 }, (_, i) => i + step) },
      { name: 'b', shape: [3], values: new Float32Array(3) },
    ],
  });
}

describe('checkpoints over the API', () => {
  it('stores checkpoints sent as bytes (IPC) or as an upload (web), serves the newest, and resumes from it', async () => {
    await app.runs.create(queuedRun('run-c', 'run c', null, config));
    const first = checkpointAt(100);
    expect(
      await call('runs.saveCheckpoint', { id: 'run-c', manifest: first.manifest, weights: { bytes: first.weights } }),
    ).toEqual({ step: 100 });
    const second = checkpointAt(200);
    const { uploadId } = await saveUpload(app.datasets.root, Readable.from([Buffer.from(second.weights)]));
    await call('runs.saveCheckpoint', { id: 'run-c', manifest: second.manifest, weights: { uploadId } });
    expect(existsSync(join(app.datasets.root, `.upload-${uploadId}`))).toBe(false);
    expect((await app.runs.get('run-c')).lastCheckpointStep).toBe(200);

    const latest = await call<{ manifest: { step: number }; weightsUrl: string }>('runs.latestCheckpoint', {
      id: 'run-c',
    });
    expect(latest.manifest).toEqual(second.manifest);
    expect(latest.weightsUrl).toBe('/data/runs/run-c/checkpoints/200/weights.bin');
    const served = await openDataFile(app, latest.weightsUrl, undefined);
    expect(served.status).toBe(200);
    const chunks: Buffer[] = [];
    for await (const chunk of served.body as Readable) chunks.push(chunk as Buffer);
    expect(new Uint8Array(Buffer.concat(chunks))).toEqual(second.weights);
    expect(
      JSON.parse(
        await text(
          (await openDataFile(app, '/data/runs/run-c/checkpoints/200/model.json', undefined)).body as Readable,
        ),
      ),
    ).toEqual(second.manifest);
    for (const bad of [
      '/data/runs/../datasets/checkpoints/1/weights.bin',
      '/data/runs/run-c/checkpoints/200/../../run.json',
      '/data/runs/run-c/run.json',
    ]) {
      await expect(openDataFile(app, bad, undefined)).rejects.toMatchObject({
        code: expect.stringMatching(/BAD_REQUEST|NOT_FOUND/),
      });
    }

    // Weights that do not match their model.json are refused, and nothing is stored.
    await expect(
      call('runs.saveCheckpoint', {
        id: 'run-c',
        manifest: checkpointAt(300).manifest,
        weights: { bytes: new Uint8Array(8) },
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('step 300 is inconsistent') });
    expect((await call<{ manifest: { step: number } }>('runs.latestCheckpoint', { id: 'run-c' })).manifest.step).toBe(
      200,
    );

    // Resuming from 200 keeps the metrics up to it; starting over drops them and the checkpoints.
    const row = (step: number) => ({
      step,
      tokens: step * 32,
      flops: step,
      trainLoss: 1,
      valLoss: 1,
      learningRate: 1e-3,
      tokensPerSecond: 1,
      flopsPerSecond: 1,
      wallSeconds: 1,
    });
    for (const step of [100, 200, 250]) await app.runs.appendMetrics('run-c', row(step));
    const start = { id: 'run-c', backend: 'webgl', adapter: null, platform: 'test' };
    // A backend that failed mid-run: the next one takes over from the checkpoint, and the log says why.
    const note =
      'WebGPU stopped at step 250: its device was lost. The run goes on with webgl from its checkpoint at step 200.';
    const resumed = await call<{ environment: { backend: string }; log: Array<{ message: string }> }>('runs.start', {
      ...start,
      fromStep: 200,
      notes: [note],
    });
    expect(resumed.environment.backend).toBe('webgl');
    expect(resumed.log.map((entry) => entry.message)).toEqual([note]);
    expect((await app.runs.metrics('run-c')).map((r) => r.step)).toEqual([100, 200]);
    await call('runs.start', start);
    expect((await app.runs.get('run-c')).log).toHaveLength(1);
    expect(await app.runs.metrics('run-c')).toEqual([]);
    expect(await call('runs.latestCheckpoint', { id: 'run-c' })).toBeNull();
  });
});

describe('who is training a run', () => {
  it('shows a run whose process died as interrupted, and keeps the app off a run another process trains', async () => {
    await app.runs.create(queuedRun('run-l', 'run l', null, config));
    await app.runs.update('run-l', { status: 'running' });
    const status = async () => (await call<{ run: { status: string } }>('runs.get', { id: 'run-l' })).run.status;
    // Marked running, but nobody holds it: the process that trained it is gone.
    expect(await status()).toBe('interrupted');
    const listed = await call<{ runs: Array<{ id: string; status: string }> }>('runs.list', {});
    expect(listed.runs.find((run) => run.id === 'run-l')?.status).toBe('interrupted');

    // Another live process (the test runner's parent stands in for an isoflop sweep) holds it.
    const lock = join(folder.dir, 'data', 'runs', 'run-l', 'lock');
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: hostname(), at: new Date().toISOString() }));
    expect(await status()).toBe('running');
    const start = { id: 'run-l', backend: 'webgl', adapter: null, platform: 'test' };
    await expect(call('runs.start', start)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('being trained by another process'),
    });

    // Once that process is gone, the app claims the run, and gives it back when the run ends.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), at: new Date().toISOString() }));
    await call('runs.start', start);
    expect(await status()).toBe('running');
    await call('runs.start', start); // the same process may start it again (a retry)
    await call('runs.finish', { id: 'run-l', status: 'interrupted', result: null, error: null });
    expect(existsSync(lock)).toBe(false);
  });
});

describe('regularization over the API', () => {
  it('a sweep created with regularization gives it to every run', async () => {
    const csv = join(folder.dir, 'table.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i % 2 === 0 ? 'a' : 'b'}`);
    writeFileSync(csv, `x,y,label\n${rows.join('\n')}\n`);
    const dataset = await app.datasets.importFrom({ source: { path: csv }, path: csv, displayName: 'table.csv' });
    const sweep = await call<{ runIds: string[] }>('sweeps.create', {
      datasetId: dataset.id,
      budgets: [1e6],
      sizesPerBudget: 2,
      regularization: {
        weightDecay: 0.1,
        l2: 1e-4,
        dropout: 0.2,
        earlyStoppingPatience: 3,
        earlyStoppingMinDelta: 0.001,
        earlyStoppingMetric: 'valAccuracy',
      },
    });
    expect(sweep.runIds).toHaveLength(2);
    for (const id of sweep.runIds) {
      const { config } = await app.runs.get(id);
      expect(config.weightDecay).toBe(0.1);
      expect(config.l2).toBe(1e-4);
      expect(config.model.dropout).toBe(0.2);
      expect(config.earlyStopping).toEqual({ patience: 3, minDelta: 0.001, restoreBest: true, metric: 'valAccuracy' });
    }
    await expect(
      call('sweeps.create', {
        datasetId: dataset.id,
        budgets: [1e6],
        sizesPerBudget: 2,
        regularization: { dropout: 2 },
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('per-size learning rates over the API', () => {
  it('a sweep created with learning rates trains each size at its own, and the rest at the default', async () => {
    const csv = join(folder.dir, 'rates.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${Math.sin(i) * Math.cos(i)}`);
    writeFileSync(csv, `x,y,z\n${rows.join('\n')}\n`);
    const dataset = await app.datasets.importFrom({ source: { path: csv }, path: csv, displayName: 'rates.csv' });
    const request = { datasetId: dataset.id, budgets: [1e6, 3e6], sizesPerBudget: 2 };
    const { plan } = await call<{ plan: Array<{ params: number }> }>('sweeps.plan', request);
    const tuned = plan[0]?.params as number;
    const sweep = await call<{ runIds: string[] }>('sweeps.create', {
      ...request,
      learningRates: [{ params: tuned, learningRate: 0.025 }],
    });
    for (const id of sweep.runIds) {
      const run = await app.runs.get(id);
      expect(run.config.peakLearningRate).toBe(run.params.total === tuned ? 0.025 : 1e-2);
    }
    await expect(
      call('sweeps.create', { ...request, learningRates: [{ params: tuned, learningRate: -1 }] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
