import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDataDir } from '../../../src-main/store/data-dir';
import { DatasetStore } from '../../../src-main/store/datasets/store';
import { queuedRun } from '../../../src-main/store/runs';
import { tempFolder, tinyRunConfig } from '../../../src-main/testing';
import { useNodeBackend } from '../../../src-main/training/node-backends';
import type { DatasetManifest } from '../../contract/datasets';
import type { CheckpointManifest, MetricRow, RunConfig, RunRecord } from '../../contract/runs';
import { decodeCheckpoint } from '../checkpoint';
import { type BackendPolicy, type DeviceLike, RunSession, type RunSink, type SessionInput } from './run-session';
import { checkTransition, prunedReason, type RunEnd } from './run-status';

/**
 * The run session against a fake sink: an in-memory store that keeps the run's status through the state
 * machine, its metrics, checkpoints and log, and can fail or "crash" at a chosen call. Real training
 * (a tiny MLP on the CPU backend) on a real imported table.
 */

const folder = tempFolder();
let datasets: DatasetStore;
let dataset: DatasetManifest;

beforeAll(async () => {
  datasets = new DatasetStore(ensureDataDir(join(folder.dir, 'data')), undefined, 1);
  const rows = Array.from({ length: 600 }, (_, i) => `${Math.sin(i)},${Math.cos(i * 0.3)},${Math.sin(i * 0.7)}`);
  const csv = join(folder.dir, 'table.csv');
  await writeFile(csv, `a,b,y\n${rows.join('\n')}\n`);
  dataset = await datasets.importFrom({ source: { path: csv }, path: csv, displayName: 'table.csv' });
}, 60_000);
afterAll(() => folder.cleanup());

const config = (overrides: Partial<RunConfig> = {}): RunConfig => ({
  ...tinyRunConfig('x', { inputs: 2, width: 8, depth: 2 }, 80, [20, 40, 60, 80]),
  ...overrides,
});

/** What the fake store holds for one run. */
class FakeSink implements RunSink {
  run: RunRecord;
  metrics: MetricRow[] = [];
  checkpoints = new Map<number, { manifest: CheckpointManifest; weights: Uint8Array }>();
  calls: string[] = [];
  /** throw at this call (`appendMetrics#3`): a full disk */
  failAt: string | null = null;
  /** after this call completes, every later call throws: the process died */
  crashAfter: string | null = null;
  private crashed = false;
  private counts = new Map<string, number>();

  constructor(run: RunRecord) {
    this.run = run;
  }

  private enter(name: string): string {
    if (this.crashed) throw new Error('the process is gone');
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    const call = `${name}#${n}`;
    this.calls.push(call);
    if (call === this.failAt) throw new Error(`ENOSPC at ${call}`);
    return call;
  }

  private leave(call: string): void {
    if (call === this.crashAfter) {
      this.crashed = true;
      throw new Error('the process is gone');
    }
  }

  private move(status: RunRecord['status']): void {
    checkTransition(this.run.name, this.run.status, status);
    this.run = { ...this.run, status };
  }

  async start(start: Parameters<RunSink['start']>[0]): Promise<void> {
    const call = this.enter('start');
    this.move('running');
    this.metrics = this.metrics.filter((row) => row.step <= start.fromStep);
    if (start.fromStep === 0) this.checkpoints.clear();
    const at = '';
    this.run = {
      ...this.run,
      environment: { backend: start.backend, adapter: start.adapter, platform: 'test', appVersion: 'test' },
      log: [...this.run.log, ...start.notes.map((message) => ({ at, message }))],
    };
    this.leave(call);
  }

  async appendMetrics(row: MetricRow): Promise<void> {
    const call = this.enter('appendMetrics');
    this.metrics.push(row);
    this.leave(call);
  }

  async saveCheckpoint(manifest: CheckpointManifest, weights: Uint8Array): Promise<void> {
    const call = this.enter('saveCheckpoint');
    this.checkpoints.set(manifest.step, { manifest, weights: weights.slice() });
    this.run = { ...this.run, lastCheckpointStep: manifest.step };
    this.leave(call);
  }

  async finish(end: RunEnd): Promise<void> {
    const call = this.enter('finish');
    this.move(end.status);
    this.run = { ...this.run, result: end.result, error: end.error };
    this.leave(call);
  }

  latest() {
    const step = Math.max(-1, ...this.checkpoints.keys());
    const saved = this.checkpoints.get(step);
    return saved ? decodeCheckpoint(saved.manifest, saved.weights) : null;
  }
}

const cpu: BackendPolicy = {
  start: async () => ({ backend: await useNodeBackend('cpu'), adapter: null }),
  fallback: async () => null,
  device: () => null,
};

function sessionFor(sink: FakeSink, extra: Partial<SessionInput> = {}): RunSession {
  return new RunSession({
    run: sink.run,
    dataset,
    read: async (split) => new Uint8Array(await readFile(join(datasets.folderOf(dataset.id), `${split}.bin`))).buffer,
    latestCheckpoint: async () => sink.latest(),
    sink,
    backends: cpu,
    ...extra,
  });
}

function newRun(id: string, overrides: Partial<RunConfig> = {}): FakeSink {
  return new FakeSink(queuedRun(id, id, null, { ...config(overrides), datasetId: dataset.id }));
}

let reference: FakeSink;

describe('run session', () => {
  beforeAll(async () => {
    reference = newRun('reference');
    await sessionFor(reference).run();
  }, 60_000);

  it('trains a queued run to completed: start, metrics in order, checkpoints, the best loss, one finish', () => {
    expect(reference.run.status).toBe('completed');
    expect(reference.calls[0]).toBe('start#1');
    expect(reference.calls.at(-1)).toBe('finish#1');
    const steps = reference.metrics.map((row) => row.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(80);
    expect(reference.checkpoints.has(80)).toBe(true);
    const losses = reference.metrics.flatMap((row) => (row.valLoss === null ? [] : [row.valLoss]));
    expect(losses.length).toBe(4);
    expect(reference.run.result?.bestValLoss).toBe(Math.min(...losses));
    expect(reference.run.environment?.backend).toBe('cpu');
  });

  it('pauses as interrupted, then resumes from its checkpoint and ends exactly where an unpaused run does', async () => {
    const sink = newRun('paused');
    let session: RunSession | null = null;
    session = sessionFor(sink, {
      onMetrics: (row) => {
        if (row.step >= 30) session?.pause();
      },
    });
    const paused = await session.run();
    expect(paused.status).toBe('interrupted');
    expect(sink.run.status).toBe('interrupted');
    const at = sink.run.lastCheckpointStep as number;
    expect(at).toBeGreaterThan(0);
    const resumed = await sessionFor(sink).run();
    expect(resumed.status).toBe('completed');
    expect(sink.run.log.map((entry) => entry.message)).toContain(`Resumed on cpu from its checkpoint at step ${at}.`);
    // Same weights, same data order, same best evaluation: the same numbers as the reference.
    expect(resumed.result?.valLoss).toBe(reference.run.result?.valLoss);
    expect(resumed.result?.bestValLoss).toBe(reference.run.result?.bestValLoss);
    const steps = sink.metrics.map((row) => row.step);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps).toEqual(reference.metrics.map((row) => row.step));
  }, 60_000);

  it('keeps the best evaluation from before the pause: it is saved in the checkpoint and comes back', async () => {
    const sink = newRun('best-kept');
    let session: RunSession | null = null;
    session = sessionFor(sink, { onMetrics: (row) => row.step >= 30 && session?.pause() });
    await session.run();
    const step = sink.run.lastCheckpointStep as number;
    const saved = sink.checkpoints.get(step);
    if (!saved) throw new Error('no checkpoint');
    const before = sink.metrics.filter((row) => row.valLoss !== null);
    const best = before.reduce((a, b) => ((b.valLoss as number) < (a.valLoss as number) ? b : a));
    expect(saved.manifest.bestEvaluation).toMatchObject({ step: best.step, valLoss: best.valLoss });
    // Say the evaluation before the pause was far better than any to come: the resumed run must report it.
    saved.manifest = {
      ...saved.manifest,
      bestEvaluation: { step: 20, valLoss: 1e-6, score: 1e-6, evalsSinceBest: 0 },
    };
    const end = await sessionFor(sink).run();
    expect(end.result?.bestValLoss).toBe(1e-6);
  }, 60_000);

  it('cancels as cancelled, and a cancelled run cannot start again without a re-run', async () => {
    const sink = newRun('cancelled');
    let session: RunSession | null = null;
    session = sessionFor(sink, { onMetrics: (row) => row.step >= 30 && session?.cancel() });
    expect((await session.run()).status).toBe('cancelled');
    await expect(sessionFor(sink).run()).rejects.toThrow(/cancelled; it cannot become running/);
  }, 60_000);

  it('stops as cancelled when the pruner says so after an evaluation', async () => {
    const sink = newRun('pruned');
    const asked: number[] = [];
    const end = await sessionFor(sink, {
      prune: async (row) => {
        asked.push(row.step);
        return row.step >= 40;
      },
    }).run();
    expect(end.status).toBe('cancelled');
    expect(end.result?.reason).toBe(prunedReason);
    expect(asked.slice(0, 2)).toEqual([20, 40]);
    expect(sink.metrics.at(-1)?.step).toBeLessThan(80);
  }, 60_000);

  it('goes on with the next backend from the last checkpoint when the GPU device is lost, and says so', async () => {
    const sink = newRun('device-lost');
    let lose: (info: { reason?: string; message?: string }) => void = () => {};
    const device: DeviceLike = {
      lost: new Promise((resolve) => {
        lose = resolve;
      }),
      destroy: () => lose({ reason: 'destroyed', message: 'test' }),
    };
    let onGpu = true;
    const gpu: BackendPolicy = {
      // The numbers come from the CPU backend either way; the policy says "webgpu" first, as the app's does.
      start: async () => ({ backend: (await useNodeBackend('cpu')) && 'webgpu', adapter: 'fake GPU' }),
      fallback: async (failed) => {
        onGpu = false;
        return failed === 'webgpu' ? { backend: 'cpu', adapter: null } : null;
      },
      device: () => (onGpu ? device : null),
    };
    const end = await sessionFor(sink, { backends: gpu, loseDeviceAtStep: 30 }).run();
    expect(end.status).toBe('completed');
    expect(sink.run.environment?.backend).toBe('cpu');
    const log = sink.run.log.map((entry) => entry.message).join('\n');
    expect(log).toMatch(
      /WebGPU stopped at step \d+: its device was lost \(destroyed: test\)\. The run goes on with cpu from its checkpoint at step \d+\./,
    );
    expect(sink.calls.filter((call) => call.startsWith('start'))).toEqual(['start#1', 'start#2']);
    expect(end.result?.valLoss).toBe(reference.run.result?.valLoss);
    expect(end.result?.bestValLoss).toBe(reference.run.result?.bestValLoss);
    expect(sink.metrics.map((row) => row.step)).toEqual(reference.metrics.map((row) => row.step));
  }, 60_000);

  it('ends as diverged when the loss blows up', async () => {
    const sink = newRun('diverged', { peakLearningRate: 1e30, warmupSteps: 1 });
    const end = await sessionFor(sink).run();
    expect(end.status).toBe('diverged');
    expect(end.result?.divergedAt).not.toBeNull();
    expect(sink.run.status).toBe('diverged');
  }, 60_000);

  it('fails with the sink’s error when a write fails (a full disk), writing nothing after it', async () => {
    const sink = newRun('disk-full');
    sink.failAt = 'appendMetrics#3';
    const end = await sessionFor(sink).run();
    expect(end).toMatchObject({ status: 'failed', error: 'ENOSPC at appendMetrics#3', result: null });
    const after = sink.calls.slice(sink.calls.indexOf('appendMetrics#3') + 1);
    expect(after).toEqual(['finish#1']);
  }, 60_000);

  it('survives a crash between a checkpoint and the metrics after it: the next session resumes cleanly', async () => {
    const sink = newRun('crashed');
    sink.crashAfter = 'saveCheckpoint#2';
    await expect(sessionFor(sink).run()).rejects.toThrow('the process is gone');
    // The process died mid-run: the store still says running, with a checkpoint at step 40.
    expect(sink.run.status).toBe('running');
    expect(sink.run.lastCheckpointStep).toBe(40);
    const revived = new FakeSink(sink.run);
    revived.metrics = sink.metrics;
    revived.checkpoints = sink.checkpoints;
    const end = await sessionFor(revived).run();
    expect(end.status).toBe('completed');
    expect(end.result?.valLoss).toBe(reference.run.result?.valLoss);
    expect(end.result?.bestValLoss).toBe(reference.run.result?.bestValLoss);
    expect(revived.metrics.map((row) => row.step)).toEqual(reference.metrics.map((row) => row.step));
  }, 60_000);

  it('records nothing when the start is refused (another process trains the run)', async () => {
    const sink = newRun('refused');
    sink.failAt = 'start#1';
    await expect(sessionFor(sink).run()).rejects.toThrow('ENOSPC at start#1');
    expect(sink.calls).toEqual(['start#1']);
    expect(sink.run.status).toBe('queued');
  });
});
