import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCheckpoint } from '../../src-shared/engine/checkpoint';
import { printPdf } from '../export/pdf';
import { openDataFile } from '../server/data-files';
import { generateDemoTeacher } from '../store/datasets/demos/demo-teacher';
import { removeLeftovers } from '../store/leftovers';
import { queuedRun } from '../store/runs';
import { metricRow, tempFolder, tinyRunConfig } from '../testing';
import { createHandlers } from './handlers';
import { type App, createApp } from './index';
import { createRouter, setInternalLog } from './router';

/**
 * The findings of the hardening review (issue 18), each as the request that broke something, now answered
 * with a typed error that names the field and leaves the data folder as it was.
 */

const folder = tempFolder();
let app: App;
let dataDir: string;

beforeAll(async () => {
  dataDir = join(folder.dir, 'data');
  app = createApp(dataDir);
  await app.datasets.create('demo-teacher', (dir) => generateDemoTeacher(dir, undefined, () => undefined));
}, 60_000);
afterAll(() => folder.cleanup());

const call = (channel: string, payload: unknown) => app.router.call(channel, payload, { transport: 'http' });
const files = (sub: string) => readdirSync(join(dataDir, sub)).sort();

const tinyConfig = tinyRunConfig('demo-teacher', { inputs: 8, width: 8, depth: 1 }, 100, [50, 100]);

describe('bounded requests', () => {
  it('refuses a grid of 10^8 points at once, without building it, and names the cap', async () => {
    const values = Array.from({ length: 10 }, (_, i) => i + 1);
    const space = Object.fromEntries(
      ['learningRate', 'batchSize', 'width', 'depth', 'dropout', 'weightDecay', 'l1', 'l2'].map((name) => [
        name,
        {
          type: 'choice',
          values:
            name === 'dropout'
              ? values.map((v) => v / 20)
              : name === 'learningRate'
                ? values.map((v) => v / 1e3)
                : values,
        },
      ]),
    );
    const started = performance.now();
    const result = await call('studies.create', {
      datasetId: 'demo-teacher',
      space,
      sampler: 'grid',
      pruner: 'none',
      trials: 10,
      steps: 100,
      seed: 1,
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    if (!result.ok) expect(result.error.message).toMatch(/100,000,000 points.*at most 100,000/);
    expect(files('studies')).toEqual([]);
  });

  it('refuses a 300,000-value choice list, a string learning rate and out-of-range values, naming the field', async () => {
    const base = { datasetId: 'demo-teacher', sampler: 'random', pruner: 'none', trials: 3, steps: 100, seed: 1 };
    const huge = await call('studies.create', {
      ...base,
      space: { width: { type: 'choice', values: Array.from({ length: 300_000 }, (_, i) => i + 1) } },
    });
    expect(huge).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('space.width.values') },
    });
    const text = await call('studies.create', {
      ...base,
      space: { learningRate: { type: 'choice', values: ['fast'] } },
    });
    expect(text).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('space.learningRate') },
    });
    const wide = await call('studies.create', { ...base, space: { width: { type: 'int', min: 1, max: 1e9 } } });
    expect(wide).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('space.width') },
    });
    expect(files('studies')).toEqual([]);
  });

  it('refuses a budget no run could honestly train, before writing anything, in plan and create alike', async () => {
    for (const channel of ['sweeps.plan', 'sweeps.create']) {
      const result = await call(channel, { datasetId: 'demo-teacher', budgets: [1e7, 1e25], sizesPerBudget: 3 });
      expect(result).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
      if (!result.ok)
        expect(result.error.message).toMatch(/field "budgets": 1\.0e\+25 FLOPs would train a .*-parameter model/);
    }
    expect(files('runs')).toEqual([]);
    expect(files('sweeps')).toEqual([]);
    const beyond = await call('sweeps.plan', { datasetId: 'demo-teacher', budgets: [1e40], sizesPerBudget: 3 });
    expect(beyond).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('budgets.0') },
    });
  });
});

describe('errors by kind', () => {
  it('answers a missing run with NOT_FOUND on start and appendMetrics, and creates nothing', async () => {
    const start = await call('runs.start', {
      id: 'run-missing',
      backend: 'cpu',
      adapter: null,
      platform: 'test',
      fromStep: 0,
    });
    expect(start).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const append = await call('runs.appendMetrics', {
      id: 'run-missing',
      rows: [metricRow(1)],
    });
    expect(append).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(files('runs')).not.toContain('run-missing');
  });

  it('answers a damaged record of every kind with DAMAGED, naming it relative to the data folder', async () => {
    mkdirSync(join(dataDir, 'datasets', 'broken-1'));
    writeFileSync(join(dataDir, 'datasets', 'broken-1', 'dataset.json'), '{"formatVersion": 1, "id": "broken-1"}');
    mkdirSync(join(dataDir, 'runs', 'run-broken'));
    writeFileSync(join(dataDir, 'runs', 'run-broken', 'run.json'), '{not json');
    mkdirSync(join(dataDir, 'sweeps', 'sweep-broken'));
    writeFileSync(join(dataDir, 'sweeps', 'sweep-broken', 'sweep.json'), '[]');
    mkdirSync(join(dataDir, 'studies', 'study-broken'));
    writeFileSync(join(dataDir, 'studies', 'study-broken', 'study.json'), '{"id": 3}');
    for (const [channel, id, shown] of [
      ['datasets.get', 'broken-1', 'datasets/broken-1/dataset.json'],
      ['runs.get', 'run-broken', 'runs/run-broken/run.json'],
      ['sweeps.get', 'sweep-broken', 'sweeps/sweep-broken/sweep.json'],
      ['studies.get', 'study-broken', 'studies/study-broken/study.json'],
    ] as const) {
      const result = await call(channel, { id });
      expect(result, channel).toMatchObject({
        ok: false,
        error: { code: 'DAMAGED', message: expect.stringContaining(shown) },
      });
      if (!result.ok) expect(result.error.message).not.toContain(dataDir);
    }
    const missing = await call('runs.get', { id: 'run-nowhere' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    if (!missing.ok) expect(missing.error.message).not.toContain(dataDir);
  });

  it('skips a checkpoint whose model.json has the wrong shape and serves the one before', async () => {
    const run = await app.runs.create(queuedRun('run-ckpt', 'checkpointed', null, tinyConfig));
    const good = encodeCheckpoint({
      step: 10,
      tokens: 80,
      flops: 1e4,
      wallSeconds: 1,
      adamStep: 10,
      bestLoss: 0.5,
      sampler: { kind: 'rows', epoch: 0, position: 80 },
      tensors: [{ name: 'w', shape: [4], values: new Float32Array([1, 2, 3, 4]) }],
    });
    await app.runs.saveCheckpoint(run.id, good.manifest, good.weights);
    mkdirSync(join(dataDir, 'runs', run.id, 'checkpoints', '20'));
    writeFileSync(join(dataDir, 'runs', run.id, 'checkpoints', '20', 'model.json'), '{"shape": "wrong"}');
    writeFileSync(join(dataDir, 'runs', run.id, 'checkpoints', '20', 'weights.bin'), 'x');
    const latest = await call('runs.latestCheckpoint', { id: run.id });
    expect(latest).toMatchObject({ ok: true, value: { manifest: { step: 10 } } });
  });

  it('answers a bug with a short INTERNAL message and a reference, the stack going to the log only', async () => {
    const logged: string[] = [];
    setInternalLog((line) => logged.push(line));
    const router = createRouter({
      ...createHandlers(app),
      'system.info': () => {
        throw new Error(`ENOENT: no such file, open '${dataDir}/secret'`);
      },
    });
    const result = await router.call('system.info', {}, { transport: 'http' });
    setInternalLog((line) => console.error(line));
    expect(result).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    if (!result.ok) {
      expect(result.error.message).not.toContain(dataDir);
      const reference = /reference (\w+)/.exec(result.error.message)?.[1];
      expect(logged.some((line) => line.includes(`${reference}`) && line.includes(dataDir))).toBe(true);
    }
  });
});

describe('atomic creation', () => {
  it('makes the over-fitting demo for six concurrent callers', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => call('runs.createOverfitDemo', {})));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, true]);
    const datasets = results.map((r) => (r.ok ? (r.value as { config: { datasetId: string } }).config.datasetId : ''));
    expect(new Set(datasets)).toEqual(new Set(['demo-teacher-256']));
    // Made once: no second import folder was started and left behind, nothing half-made is listed.
    expect(files('datasets').filter((name) => name.startsWith('.'))).toEqual([]);
    const slice = await app.datasets.get('demo-teacher-256');
    expect(slice.kind === 'table' && slice.splits.train.rows).toBe(256);
  });

  it("lists a sweep's runs only once its sweep.json exists, and removes a crashed creation's runs on open", async () => {
    // A sweep whose creation died after writing two of its runs: sweep.json was never written.
    const hour = 3600_000;
    for (const n of [1, 2]) {
      const run = queuedRun(`sweep-2026-12-01-dead01-r0${n}`, `crashed ${n}`, 'sweep-2026-12-01-dead01', tinyConfig);
      await app.runs.create({ ...run, createdAt: new Date(Date.now() - 2 * hour).toISOString() });
    }
    // And a fresh one another process is still creating.
    await app.runs.create(
      queuedRun('sweep-2026-12-03-live01-r01', 'in progress', 'sweep-2026-12-03-live01', tinyConfig),
    );
    const listed = await call('runs.list', {});
    expect(listed.ok && (listed.value as { runs: Array<{ sweepId: string | null }> }).runs.some((r) => r.sweepId)).toBe(
      false,
    );
    // Uploads: an abandoned one from two days ago goes, today's stays.
    writeFileSync(join(dataDir, 'datasets', '.upload-0123456789abcdef0123'), 'old');
    writeFileSync(join(dataDir, 'datasets', '.upload-fedcba98765432100123'), 'new');
    const twoDaysAgo = (Date.now() - 48 * hour) / 1000;
    utimesSync(join(dataDir, 'datasets', '.upload-0123456789abcdef0123'), twoDaysAgo, twoDaysAgo);
    const removed = await removeLeftovers(dataDir);
    expect(removed.sort()).toEqual([
      'datasets/.upload-0123456789abcdef0123',
      'runs/sweep-2026-12-01-dead01-r01',
      'runs/sweep-2026-12-01-dead01-r02',
    ]);
    expect(files('runs')).toContain('sweep-2026-12-03-live01-r01');
    expect(files('datasets')).toContain('.upload-fedcba98765432100123');
  });

  it("a damaged fold never hides a cross-validation's other folds", async () => {
    const created = await call('runs.createCrossValidation', {
      datasetId: 'demo-teacher',
      k: 3,
      width: 4,
      depth: 1,
      steps: 20,
      batchSize: 8,
      learningRate: 1e-3,
    });
    const folds = created.ok ? (created.value as Array<{ id: string; cvId: string }>) : [];
    expect(folds).toHaveLength(3);
    writeFileSync(join(dataDir, 'runs', folds[1]?.id ?? '', 'run.json'), '{damaged');
    const listed = await call('runs.list', {});
    const value = listed.ok ? (listed.value as { runs: Array<{ id: string }>; damaged: Array<{ id: string }> }) : null;
    expect(value?.runs.map((r) => r.id)).toEqual(expect.arrayContaining([folds[0]?.id, folds[2]?.id]));
    expect(value?.damaged.map((r) => r.id)).toContain(folds[1]?.id);
    const removed = await removeLeftovers(dataDir, Date.now() + 48 * 3600_000);
    expect(removed.filter((path) => path.includes(folds[0]?.cvId ?? '-'))).toEqual([]);
  });

  it("a trial's run written before a crash stays unlisted until its study records it, then is reused", async () => {
    const created = await call('studies.create', {
      datasetId: 'demo-teacher',
      space: { learningRate: { type: 'log', min: 1e-3, max: 1e-2 } },
      sampler: 'random',
      pruner: 'none',
      trials: 2,
      steps: 20,
      seed: 5,
    });
    const studyId = created.ok ? (created.value as { id: string }).id : '';
    // What nextTrial writes first, as a process killed before saving study.json would leave it.
    const study = await app.studies.get(studyId);
    const dataset = await app.datasets.get('demo-teacher');
    const { trialRun, proposeParams } = await import('../usecases/study-trials');
    const early = await app.runs.create(trialRun(study, dataset, 1, proposeParams(study, 1)));
    const before = await call('runs.list', {});
    expect(before.ok && (before.value as { runs: Array<{ id: string }> }).runs.some((r) => r.id === early.id)).toBe(
      false,
    );
    const next = await call('studies.nextTrial', { id: studyId });
    expect(next).toMatchObject({ ok: true, value: { id: early.id, createdAt: early.createdAt } });
    const after = await call('runs.list', {});
    expect(after.ok && (after.value as { runs: Array<{ id: string }> }).runs.some((r) => r.id === early.id)).toBe(true);
  });

  it('a sweep appears whole: its runs are listed with it', async () => {
    const created = await call('sweeps.create', { datasetId: 'demo-teacher', budgets: [1e7, 3e7], sizesPerBudget: 3 });
    expect(created.ok).toBe(true);
    const sweep = created.ok ? (created.value as { id: string; runIds: string[] }) : null;
    const listed = await call('runs.list', {});
    const ids = listed.ok ? (listed.value as { runs: Array<{ id: string }> }).runs.map((r) => r.id) : [];
    expect(sweep?.runIds.every((id) => ids.includes(id))).toBe(true);
    expect(
      JSON.parse(readFileSync(join(dataDir, 'sweeps', sweep?.id ?? '', 'sweep.json'), 'utf8')).runIds,
    ).toHaveLength(6);
  });

  it('lets one of two exports of the same report name win, the other answering CONFLICT', async () => {
    await app.runs.create(queuedRun('run-reported', 'reported', null, tinyConfig));
    const request = { runIds: ['run-reported'], format: 'json', paper: 'A4', name: 'same-name' };
    const [a, b] = await Promise.all([call('reports.export', request), call('reports.export', request)]);
    expect(
      [a, b].filter((r) => r.ok),
      JSON.stringify([a, b]),
    ).toHaveLength(1);
    expect([a, b].find((r) => !r.ok)).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(files('reports').filter((name) => name.startsWith('same-name'))).toEqual(['same-name.json']);
  });
});

describe('small flaws', () => {
  it('serves a checkpoint at step 10^12 (the data route once allowed 12 digits only)', async () => {
    const run = await app.runs.create(queuedRun('run-long', 'long', null, tinyConfig));
    const { manifest, weights } = encodeCheckpoint({
      step: 1e12,
      tokens: 8e12,
      flops: 1e18,
      wallSeconds: 1,
      adamStep: 1e12,
      bestLoss: null,
      sampler: { kind: 'rows', epoch: 0, position: 0 },
      tensors: [{ name: 'w', shape: [2], values: new Float32Array([1, 2]) }],
    });
    await call('runs.saveCheckpoint', { id: run.id, manifest, weights: { bytes: weights } });
    const file = await openDataFile(app, `/data/runs/${run.id}/checkpoints/1000000000000/weights.bin`, undefined);
    expect(file.status).toBe(200);
    file.body?.destroy();
  });

  it('prints PDFs with JavaScript off, outside Electron too', async () => {
    const html =
      '<!doctype html><title>t</title><p id="x">static text</p>' +
      "<script>document.getElementById('x').textContent = 'SCRIPT RAN';</script>";
    const pdf = await printPdf(html, 'A4', 'script check');
    const text = execFileSync('pdftotext', ['-', '-'], { input: Buffer.from(pdf) }).toString('utf8');
    expect(text).toContain('static text');
    expect(text).not.toContain('SCRIPT RAN');
  }, 60_000);
});
