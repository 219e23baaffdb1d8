import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findChromium } from '../src-main/export/pdf';
import { exportReport } from '../src-main/export/reports';
import { ensureDataDir } from '../src-main/store/data-dir';
import { DatasetStore } from '../src-main/store/datasets/store';
import { queuedRun, RunStore } from '../src-main/store/runs';
import { StudyStore } from '../src-main/store/studies';
import { SweepStore } from '../src-main/store/sweeps';
import { tempFolder } from '../src-main/testing';
import { executeRun } from '../src-main/training/run-executor';
import { runSweep } from '../src-main/training/sweep';
import { createCrossValidation } from '../src-main/usecases/cross-validation';
import { createStudy, finishTrial, nextTrial, reportTrial } from '../src-main/usecases/studies';
import { createSweep } from '../src-main/usecases/sweeps';
import { ReportData } from '../src-shared/contract';
import { planSweep } from '../src-shared/engine/planner';
import { formatSig } from '../src-shared/format';
import { analyzeRuns } from '../src-shared/science/analysis';
import { datasetContext, observeRuns } from '../src-shared/science/run-observations';

const schemaFile = new URL('../src-shared/contract/report.schema.json', import.meta.url);
const folder = tempFolder();
let stores: { runs: RunStore; sweeps: SweepStore; studies: StudyStore; datasets: DatasetStore; dataDir: string };
let sweepId: string;
let datasetId: string;

beforeAll(async () => {
  const dataDir = ensureDataDir(join(folder.dir, 'data'));
  stores = {
    dataDir,
    runs: new RunStore(dataDir),
    sweeps: new SweepStore(dataDir),
    studies: new StudyStore(dataDir),
    datasets: new DatasetStore(dataDir),
  };
  const csv = join(folder.dir, 't.csv');
  const rows = Array.from(
    { length: 3000 },
    (_, i) => `${Math.sin(i)},${Math.cos(i * 0.3)},${Math.tanh(Math.sin(i) * 2 * Math.cos(i * 0.3))}`,
  );
  writeFileSync(csv, `a,b,y\n${rows.join('\n')}\n`);
  const dataset = await stores.datasets.importFrom({ source: { path: csv }, path: csv, displayName: 't.csv' });
  datasetId = dataset.id;
  const plan = planSweep({ dataset, budgets: [2e6, 6e6], sizesPerBudget: 3, batchSize: 32 });
  sweepId = (await createSweep(stores, dataset, plan, { batchSize: 32, seed: 1 })).id;
  await runSweep(stores, sweepId, { backend: 'cpu' });
}, 180_000);
afterAll(() => folder.cleanup());

describe('reports', () => {
  it('ship a JSON Schema generated from the contract', () => {
    const generated = z.toJSONSchema(ReportData);
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(schemaFile, `${JSON.stringify(generated, null, 2)}\n`);
    expect(JSON.parse(readFileSync(schemaFile, 'utf8'))).toEqual(JSON.parse(JSON.stringify(generated)));
  });

  it('write JSON that validates against the schema, whose summary states the fit’s own numbers', async () => {
    const out = join(folder.dir, 'report.json');
    const { report, files } = await exportReport(stores, { sweepId, format: 'json', out, paper: 'A4', budget: 1e8 });
    expect(files).toEqual([out]);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(report.fit).not.toBeNull();
    const fit = report.fit as NonNullable<typeof report.fit>;
    expect(fit.allocation.flops).toBe(1e8);
    // Every fitted figure with three significant digits, as the fit's table and the app write it.
    expect(report.summary).toContain(`E = ${formatSig(fit.E)}`);
    expect(report.summary).toContain(`predicted loss of ${fit.allocation.loss.toFixed(4)}`);
    expect(report.runs).toHaveLength(6);
    // The same intervals as the app's Frontier for the same runs (same resamples, same seed, same options).
    const sweep = await stores.sweeps.get(sweepId);
    const runs = await Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
    const dataset = await stores.datasets.get(datasetId);
    const context = datasetContext(dataset);
    const app = analyzeRuns(
      observeRuns(runs.filter((run) => run.status === 'completed' && run.result?.valLoss != null)),
      {
        bootstrap: 200,
        seed: 1,
        budgets: [],
        holdoutLargest: false,
        floor: context.floor,
        uniqueTokens: context.uniqueTokens,
      },
    );
    expect(fit.approaches.map((a) => [a.aCi95, a.bCi95])).toEqual(app.approaches.map((a) => [a.aCi95, a.bCi95]));
    expect(fit.ci95).toEqual(app.ci95);
    // N*(C) and D*(C) come with their bootstrap band, which holds the fitted curve.
    expect(fit.optimumCurve.length).toBe(30);
    for (const point of fit.optimumCurve) {
      expect(point.paramsCi95).not.toBeNull();
      const [low, high] = point.paramsCi95 as [number, number];
      expect(low).toBeLessThanOrEqual(high);
    }
  }, 60_000);

  it('print a PDF that pdfinfo reads, with a page per section', async () => {
    if (!findChromium()) throw new Error('the PDF test needs Chromium (.ci/run installs it)');
    const out = join(folder.dir, 'report.pdf');
    await exportReport(stores, { sweepId, format: 'pdf', out, paper: 'Letter' });
    const info = spawnSync('pdfinfo', [out], { encoding: 'utf8' });
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/Pages:\s+[3-9]/);
    expect(info.stdout).toMatch(/Page size:\s+612 x 792/);
    const text = spawnSync('pdftotext', [out, '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('Summary');
    expect(text).toContain('Methods');
    // No budget asked: the summary speaks of the largest one trained, and says so.
    expect(text.replace(/\s+/g, ' ')).toContain('(the largest budget the runs trained at');
    // A table's runs are MLPs: the methods count their layers, not a transformer's attention.
    expect(text).toContain('each dense layer of the MLP');
    expect(text).not.toMatch(/attention/i);
    // Every page carries a real share of the report: no page holds a lone orphaned line or two.
    const pages = Number(/Pages:\s+(\d+)/.exec(info.stdout)?.[1]);
    for (let page = 1; page <= pages; page++) {
      const body = spawnSync('pdftotext', ['-f', String(page), '-l', String(page), out, '-'], {
        encoding: 'utf8',
      }).stdout;
      const words = body.split(/\s+/).filter((w) => w.length > 1).length;
      expect(words, `page ${page} of ${pages}`).toBeGreaterThan(30);
    }
  }, 60_000);

  it('report on runs chosen by hand (a comparison), into the reports folder under the name given', async () => {
    const sweep = await stores.sweeps.get(sweepId);
    const chosen = sweep.runIds.slice(0, 2);
    const { report, files } = await exportReport(stores, {
      runIds: chosen,
      name: 'two-runs',
      format: 'json',
      out: null,
      paper: 'A4',
    });
    expect(files).toEqual([join(stores.dataDir, 'reports', 'two-runs.json')]);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
    expect(validate(JSON.parse(readFileSync(files[0] as string, 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
    expect(report.sweep.scope).toBe('runs');
    expect(report.sweep.runIds).toEqual(chosen);
    expect(report.runs.map((run) => run.id)).toEqual(chosen);
    expect(report.fit).toBeNull();
    expect(report.summary).toContain('This selection has 2 completed runs');
    await expect(
      exportReport(stores, { runIds: chosen, name: 'two-runs', format: 'json', out: null, paper: 'A4' }),
    ).rejects.toThrow('A report named two-runs.json exists already: choose another name.');
    await expect(
      exportReport(stores, { runIds: chosen, name: '../escape', format: 'json', out: null, paper: 'A4' }),
    ).rejects.toThrow(/cannot name a report/);
    const other = await stores.runs.create(
      queuedRun('other-dataset-run', 'elsewhere', null, {
        ...(await stores.runs.get(chosen[0] as string)).config,
        datasetId: 'another-dataset',
      }),
    );
    await expect(
      exportReport(stores, { runIds: [chosen[0] as string, other.id], format: 'json', out: null, paper: 'A4' }),
    ).rejects.toThrow(/trained on different datasets/);
    await expect(
      exportReport(stores, { sweepId, runIds: chosen, format: 'json', out: null, paper: 'A4' }),
    ).rejects.toThrow(/a sweep, a study or a list of runs/);
  }, 60_000);

  it('refuse an output folder that does not exist, writing nothing', async () => {
    await expect(
      exportReport(stores, { sweepId, format: 'both', out: join(folder.dir, 'missing', 'r.pdf'), paper: 'A4' }),
    ).rejects.toThrow(/does not exist/);
  });

  it('report on a study: its trials, the best one in the summary, charts, and no scaling-law fit', async () => {
    const study = await createStudy(stores, {
      datasetId,
      space: { learningRate: { type: 'log', min: 1e-3, max: 3e-2 }, width: { type: 'int', min: 4, max: 16 } },
      sampler: 'random',
      pruner: 'none',
      trials: 3,
      steps: 30,
      seed: 3,
    });
    for (let run = await nextTrial(stores, study.id); run; run = await nextTrial(stores, study.id)) {
      const id = run.id;
      await executeRun(stores, id, {
        backend: 'cpu',
        onMetrics: (_r, m) => void (m.valLoss !== null && reportTrial(stores, study.id, id, m.step, m.valLoss)),
      });
      await finishTrial(stores, study.id, id);
    }
    const out = join(folder.dir, 'study.pdf');
    const { report } = await exportReport(stores, { studyId: study.id, format: 'both', out, paper: 'A4' });
    const json = JSON.parse(readFileSync(join(folder.dir, 'study.json'), 'utf8'));
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(report.sweep.scope).toBe('study');
    expect(report.fit).toBeNull();
    expect(report.study?.trials).toHaveLength(3);
    const best = report.study?.best as NonNullable<NonNullable<typeof report.study>['best']>;
    const values = (report.study?.trials ?? []).map((t) => t.value as number);
    expect(best.value).toBe(Math.min(...values));
    expect(report.summary).toContain(
      `trial ${best.number} trained best: best validation loss ${best.value.toFixed(5)}`,
    );
    const text = spawnSync('pdftotext', [out, '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('Hyper-parameter study');
    expect(text).toContain('Parallel coordinates');
  }, 120_000);

  it('report on cross-validation folds: mean ± std over the folds, in the summary and the PDF', async () => {
    const folds = await createCrossValidation(stores, {
      datasetId,
      k: 3,
      width: 8,
      depth: 2,
      steps: 30,
      batchSize: 32,
      learningRate: 1e-2,
      dropout: 0,
      weightDecay: 0,
      l1: 0,
      l2: 0,
      seed: 2,
    });
    for (const run of folds) await executeRun(stores, run.id, { backend: 'cpu' });
    const out = join(folder.dir, 'cv.pdf');
    const { report } = await exportReport(stores, { runIds: folds.map((r) => r.id), format: 'pdf', out, paper: 'A4' });
    const cv = report.crossValidations[0];
    expect(cv?.completed).toBe(3);
    const losses = cv?.folds.map((f) => f.bestValLoss as number) ?? [];
    const mean = losses.reduce((a, b) => a + b, 0) / 3;
    expect(cv?.bestValLoss?.mean).toBeCloseTo(mean, 12);
    expect(report.summary).toContain(`${mean.toFixed(5)} ± ${cv?.bestValLoss?.std.toFixed(5)}`);
    expect(report.fit).toBeNull();
    const text = spawnSync('pdftotext', [out, '-'], { encoding: 'utf8' }).stdout;
    expect(text).toContain('Cross-validation');
  }, 120_000);
});
