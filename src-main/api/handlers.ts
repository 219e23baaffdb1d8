import { arch, platform } from 'node:os';
import { basename, join } from 'node:path';
import { IsoflopError } from '../../src-shared/contract';
import { applyLearningRates } from '../../src-shared/engine/lr-tuning';
import { measuredThroughput, planSweep } from '../../src-shared/engine/planner';
import { summariseFolds } from '../../src-shared/science/cross-validation';
import type { PdfPrinter } from '../export/pdf';
import { exportReport, listReports } from '../export/reports';
import { missingDemos, restoreDemos } from '../store/datasets/demos/demos';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { StudyStore } from '../store/studies';
import type { SweepStore } from '../store/sweeps';
import { discardUpload, takeUpload, uploadPath } from '../store/uploads';
import { createCrossValidation } from '../usecases/cross-validation';
import { createOverfitDemoRun, createRegularizationComparison } from '../usecases/overfit-demo';
import { finishRun, saveRunCheckpoint, startRun } from '../usecases/runs';
import { createStudy, finishTrial, nextTrial, reportTrial } from '../usecases/studies';
import { createSweep } from '../usecases/sweeps';
import { appVersion } from '../version';
import type { JobRegistry } from './jobs';
import type { Handlers } from './router';

export interface DemoState {
  preparing: boolean;
  error: string | null;
}

export interface AppContext {
  dataDir: string;
  datasets: DatasetStore;
  runs: RunStore;
  sweeps: SweepStore;
  studies: StudyStore;
  jobs: JobRegistry;
  printPdf: PdfPrinter;
  reveal: (path: string) => Promise<void>;
  demos: DemoState;
}

async function planFor(
  app: AppContext,
  request: {
    datasetId: string;
    budgets: number[];
    sizesPerBudget: number;
    batchSize?: number | undefined;
    learningRates?: Array<{ params: number; learningRate: number }> | undefined;
  },
) {
  const dataset = await app.datasets.get(request.datasetId);
  const batchSize = request.batchSize ?? (dataset.kind === 'table' ? 64 : 16);
  const plan = planSweep({ dataset, budgets: request.budgets, sizesPerBudget: request.sizesPerBudget, batchSize });
  return { dataset, batchSize, plan: applyLearningRates(plan, request.learningRates ?? []) };
}

/** The main side's answers to every channel in the contract. */
export function createHandlers(app: AppContext): Handlers {
  let restoring: Promise<string[]> | null = null;
  return {
    'system.info': (_input, ctx) => ({
      appVersion,
      dataDir: app.dataDir,
      platform: {
        os: platform(),
        arch: arch(),
        node: process.versions.node,
        electron: process.versions.electron ?? null,
        chrome: process.versions.chrome ?? null,
      },
      transport: ctx.transport,
    }),
    'datasets.list': async () => ({
      datasets: await app.datasets.list(),
      preparingDemos: app.demos.preparing,
      demoError: app.demos.error,
      missingDemos: app.demos.preparing ? [] : await missingDemos(app.datasets),
    }),
    'datasets.restoreDemos': async () => {
      // One restore at a time: a second call (a double click, another window) waits for the first.
      restoring ??= restoreDemos(app.datasets).finally(() => {
        restoring = null;
      });
      return { restored: await restoring };
    },
    'datasets.get': ({ id }) => app.datasets.get(id),
    'datasets.rename': ({ id, name }) => app.datasets.rename(id, name),
    'datasets.delete': async ({ id }) => {
      await app.datasets.delete(id);
      return { id };
    },
    'datasets.import': (request, ctx) => {
      const { source } = request;
      let path: string;
      let displayName: string;
      let cleanup: () => Promise<void> = async () => {};
      if ('path' in source) {
        // A browser page cannot name a path on this computer; only the desktop app and the CLI may.
        if (ctx.transport === 'http') {
          throw new IsoflopError('FORBIDDEN', 'In web mode, upload the file instead of naming a path.');
        }
        path = source.path;
        displayName = basename(source.path);
      } else {
        path = uploadPath(app.datasets.root, source.uploadId);
        displayName = basename(source.fileName);
        cleanup = () => discardUpload(app.datasets.root, source.uploadId);
      }
      return app.jobs.start(displayName, async (control) => {
        try {
          const manifest = await app.datasets.importFrom({ ...request, path, displayName }, control.progress);
          return manifest.id;
        } finally {
          await cleanup();
        }
      });
    },
    'runs.list': async () => {
      const entries = await app.runs.list();
      return {
        runs: entries.flatMap((entry) => (entry.ok ? [entry.run] : [])),
        damaged: entries.flatMap((entry) => (entry.ok ? [] : [{ id: entry.id, error: entry.error }])),
      };
    },
    'runs.get': async ({ id }) => ({
      run: await app.runs.observed(await app.runs.get(id)),
      metrics: await app.runs.metrics(id),
    }),
    'sweeps.list': () => app.sweeps.list(),
    'sweeps.get': async ({ id }) => {
      const sweep = await app.sweeps.get(id);
      const runs = [];
      for (const runId of sweep.runIds) {
        const run = await app.runs.get(runId).catch(() => null);
        if (run) runs.push(await app.runs.observed(run));
      }
      return { sweep, runs };
    },
    'sweeps.plan': async (request) => {
      const { batchSize, plan, dataset } = await planFor(app, request);
      const runs = (await app.runs.list()).flatMap((entry) => (entry.ok ? [entry.run] : []));
      return { batchSize, plan, throughput: measuredThroughput(runs, dataset.kind === 'table' ? 'mlp' : 'gpt') };
    },
    'sweeps.create': async (request) => {
      const { batchSize, plan, dataset } = await planFor(app, request);
      return createSweep(app, dataset, plan, {
        batchSize,
        seed: request.seed ?? 1,
        regularization: request.regularization ?? {},
      });
    },
    'runs.createOverfitDemo': () => createOverfitDemoRun(app),
    'runs.createRegularizationComparison': () => createRegularizationComparison(app),
    'runs.createCrossValidation': (request) => createCrossValidation(app, request),
    'runs.crossValidation': async ({ cvId }) => {
      const entries = await app.runs.list();
      const runs = entries
        .flatMap((entry) => (entry.ok && entry.run.cvId === cvId ? [entry.run] : []))
        .sort((a, b) => (a.config.fold?.index ?? 0) - (b.config.fold?.index ?? 0));
      if (runs.length === 0) throw new IsoflopError('NOT_FOUND', `There is no cross-validation "${cvId}".`);
      const observed = await Promise.all(runs.map((run) => app.runs.observed(run)));
      const metrics = await Promise.all(runs.map((run) => app.runs.metrics(run.id)));
      const summary = summariseFolds(observed.map((run, i) => ({ run, metrics: metrics[i] ?? [] })));
      return { runs: observed, metrics, summary };
    },
    'studies.list': () => app.studies.list(),
    'studies.get': async ({ id }) => {
      const study = await app.studies.get(id);
      const runs = [];
      for (const trial of study.trials) {
        const run = await app.runs.get(trial.runId).catch(() => null);
        if (run) runs.push(await app.runs.observed(run));
      }
      return { study, runs };
    },
    'studies.create': (request) => createStudy(app, request),
    'studies.nextTrial': ({ id }) => nextTrial(app, id),
    'studies.report': ({ id, runId, step, value }) => reportTrial(app, id, runId, step, value),
    'studies.finishTrial': ({ id, runId }) => finishTrial(app, id, runId),
    'runs.start': ({ id, ...start }) => startRun(app.runs, id, start),
    'runs.appendMetrics': async ({ id, rows }) => {
      for (const row of rows) await app.runs.appendMetrics(id, row);
      return { appended: rows.length };
    },
    'runs.finish': ({ id, ...end }) => finishRun(app.runs, id, end),
    'runs.saveCheckpoint': async ({ id, manifest, weights }) => {
      await app.runs.get(id);
      const bytes = 'bytes' in weights ? weights.bytes : await takeUpload(app.datasets.root, weights.uploadId);
      await saveRunCheckpoint(app.runs, id, manifest, bytes);
      return { step: manifest.step };
    },
    'runs.latestCheckpoint': async ({ id }) => {
      const saved = await app.runs.latestCheckpoint(id);
      if (!saved) return null;
      return {
        manifest: saved.manifest,
        weightsUrl: `/data/runs/${id}/checkpoints/${saved.manifest.step}/weights.bin`,
      };
    },
    'runs.cancel': async ({ id }) => {
      const run = await app.runs.get(id);
      if (run.status !== 'queued' && run.status !== 'interrupted') {
        throw new IsoflopError(
          'CONFLICT',
          `Run ${run.name} is ${run.status}; only a queued or interrupted run can be cancelled` +
            (run.status === 'running' ? ' (stop it first).' : '.'),
        );
      }
      return app.runs.update(id, { status: 'cancelled' });
    },
    'runs.requeue': async ({ id }) => {
      const run = await app.runs.get(id);
      if (run.status === 'running' || run.status === 'queued') {
        throw new IsoflopError('CONFLICT', `Run ${run.name} is ${run.status} already; there is nothing to re-run.`);
      }
      await app.runs.truncateMetrics(id, 0);
      await app.runs.clearCheckpoints(id);
      return app.runs.update(id, { status: 'queued', result: null, error: null, lastCheckpointStep: null });
    },
    'reports.list': () => listReports(app.dataDir),
    'reports.reveal': async ({ name }) => {
      const known = await listReports(app.dataDir);
      if (!known.some((report) => report.name === name)) {
        throw new IsoflopError('NOT_FOUND', `There is no report ${name} in the data folder's reports.`);
      }
      const path = join(app.dataDir, 'reports', name);
      try {
        await app.reveal(path);
        return { path, revealed: true, message: null };
      } catch (error) {
        return {
          path,
          revealed: false,
          message: `${error instanceof Error ? error.message : String(error)}. The report is at ${path}.`,
        };
      }
    },
    'reports.export': async ({ sweepId, runIds, studyId, format, paper, name, budget }) => {
      const { files } = await exportReport(app, {
        sweepId,
        runIds,
        studyId,
        name,
        format,
        paper,
        out: null,
        ...(budget !== undefined ? { budget } : {}),
      });
      return { files: files.map((file) => basename(file)) };
    },
    'jobs.get': ({ id }) => app.jobs.get(id),
  };
}
