import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src-shared/contract';
import { queuedRun } from '../store/runs';
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
    await expect(call('runs.cancel', { id: 'run-a' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });

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
      code: 'INVALID_INPUT',
      message: expect.stringContaining('queued already'),
    });

    await app.runs.update('run-a', { status: 'running' });
    await expect(call('runs.cancel', { id: 'run-a' })).rejects.toMatchObject({
      message: expect.stringContaining('stop it first'),
    });
    await expect(call('runs.cancel', { id: 'no-such-run' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
