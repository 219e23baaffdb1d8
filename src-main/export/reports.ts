import { createHash } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { IsoflopError, ReportData, type StudyRecord } from '../../src-shared/contract';
import { buildReport, type ReportSubject } from '../../src-shared/report/build';
import { renderReportHtml } from '../../src-shared/report/html';
import { writeFileAtomic } from '../store/atomic';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { StudyStore } from '../store/studies';
import type { SweepStore } from '../store/sweeps';
import { appVersion } from '../version';
import { type PdfPrinter, printPdf } from './pdf';

/** A report (a sweep, or chosen runs) as JSON and/or PDF, written whole (temp, rename), with a copy in <data>/reports/. */

export interface ExportRequest {
  /** a sweep, runs chosen by hand, or a study (one of the three) */
  sweepId?: string | undefined;
  runIds?: string[] | undefined;
  studyId?: string | undefined;
  /** the report's name in <data>/reports/ (letters, digits, dashes); a dated one when omitted */
  name?: string | undefined;
  format: 'pdf' | 'json' | 'both';
  /** file to write; for both formats its extension is replaced by .pdf and .json; null: only the data folder */
  out: string | null;
  paper: 'A4' | 'Letter';
  budget?: number;
}

function checkFolder(file: string): void {
  const folder = dirname(resolve(file));
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(folder);
  } catch {
    throw new IsoflopError('BAD_REQUEST', `The folder ${folder} does not exist: create it or choose another --out.`);
  }
  if (!info.isDirectory()) throw new IsoflopError('BAD_REQUEST', `${folder} is not a folder: choose another --out.`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new IsoflopError('BAD_REQUEST', `The folder ${folder} is not writable: choose another --out.`);
  }
}

export async function exportReport(
  stores: {
    runs: RunStore;
    sweeps: SweepStore;
    studies: StudyStore;
    datasets: DatasetStore;
    dataDir: string;
    printPdf?: PdfPrinter;
  },
  request: ExportRequest,
): Promise<{ files: string[]; report: ReportData }> {
  if (request.out !== null) checkFolder(request.out);
  const { subject, runIds, datasetId, study } = await subjectOf(stores, request);
  const runs = [];
  for (const id of runIds) runs.push({ run: await stores.runs.get(id), metrics: await stores.runs.metrics(id) });
  const dataset = await stores.datasets.get(datasetId);
  const report = ReportData.parse(
    buildReport({ sweep: subject, runs, dataset, appVersion, budget: request.budget, ...(study ? { study } : {}) }),
  );
  const base = request.out?.replace(/\.(pdf|json)$/i, '') ?? null;
  const files: string[] = [];
  const archive = join(stores.dataDir, 'reports');
  await mkdir(archive, { recursive: true });
  const stem = request.name ?? `${subject.id}-${report.generatedAt.replace(/[:.]/g, '-')}`;
  if (request.name !== undefined) {
    if (!reportName.test(request.name)) {
      throw new IsoflopError(
        'BAD_REQUEST',
        `"${request.name}" cannot name a report: use letters, digits and dashes (for example "chinchilla-check").`,
      );
    }
    for (const extension of request.format === 'both' ? ['pdf', 'json'] : [request.format]) {
      if (await stat(join(archive, `${stem}.${extension}`)).catch(() => null)) {
        throw new IsoflopError('CONFLICT', `A report named ${stem}.${extension} exists already: choose another name.`);
      }
    }
  }
  // A chosen name is taken by one writer only, even by two at once; a generated one is unique already.
  const named = (file: string) =>
    request.name === undefined
      ? undefined
      : { onExists: () => new IsoflopError('CONFLICT', `A report named ${file} exists already: choose another name.`) };
  if (request.format !== 'pdf') {
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const archived = join(archive, `${stem}.json`);
    await writeFileAtomic(archived, json, named(`${stem}.json`));
    if (base !== null) {
      const file = request.format === 'json' ? (request.out as string) : `${base}.json`;
      await writeFileAtomic(file, json);
      files.push(file);
    } else files.push(archived);
  }
  if (request.format !== 'json') {
    const pdf = await (stores.printPdf ?? printPdf)(renderReportHtml(report), request.paper, report.title);
    const archived = join(archive, `${stem}.pdf`);
    await writeFileAtomic(archived, pdf, named(`${stem}.pdf`));
    if (base !== null) {
      const file = request.format === 'pdf' ? (request.out as string) : `${base}.pdf`;
      await writeFileAtomic(file, pdf);
      files.push(file);
    } else files.push(archived);
  }
  // What the files came from, for the Reports list (a PDF does not say so to a program).
  const source: ReportSource = { scope: subject.scope, id: subject.id, name: subject.name, dataset: dataset.name };
  await mkdir(join(archive, sourcesFolder), { recursive: true });
  await writeFileAtomic(join(archive, sourcesFolder, `${stem}.json`), JSON.stringify(source));
  return { files, report };
}

/** The subject a report in <data>/reports/ was made from, kept beside it in reports/sources/<stem>.json. */
export interface ReportSource {
  scope: 'sweep' | 'runs' | 'study';
  id: string;
  name: string;
  dataset: string;
}

const sourcesFolder = 'sources';

const reportName = /^[a-z0-9][a-z0-9-]{0,80}$/i;

/** A report's source, from its record; null for reports made before sources were kept, or damaged records. */
async function sourceOf(folder: string, name: string): Promise<ReportSource | null> {
  try {
    const value = JSON.parse(
      await readFile(join(folder, sourcesFolder, `${name.replace(/\.(pdf|json)$/i, '')}.json`), 'utf8'),
    ) as Partial<ReportSource>;
    const scopes = ['sweep', 'runs', 'study'];
    return typeof value.id === 'string' && typeof value.name === 'string' && scopes.includes(value.scope as string)
      ? {
          scope: value.scope as ReportSource['scope'],
          id: value.id,
          name: value.name,
          dataset: String(value.dataset ?? ''),
        }
      : null;
  } catch {
    return null;
  }
}

/** What a report covers: a sweep's runs, a study's trials, or runs chosen by hand (all on one dataset). */
async function subjectOf(
  stores: { runs: RunStore; sweeps: SweepStore; studies: StudyStore },
  request: ExportRequest,
): Promise<{ subject: ReportSubject; runIds: string[]; datasetId: string; study?: StudyRecord }> {
  const named = [request.sweepId, request.runIds, request.studyId].filter((x) => x !== undefined).length;
  if (named !== 1) {
    throw new IsoflopError('BAD_REQUEST', 'A report covers a sweep, a study or a list of runs: name one of the three.');
  }
  if (request.studyId !== undefined) {
    const study = await stores.studies.get(request.studyId);
    const runIds = [];
    for (const trial of study.trials)
      if (await stores.runs.get(trial.runId).catch(() => null)) runIds.push(trial.runId);
    if (runIds.length === 0) {
      throw new IsoflopError('BAD_REQUEST', `Study ${study.id} has no trials yet: run some before reporting on it.`);
    }
    const budgets = [
      ...new Set((await Promise.all(runIds.map((id) => stores.runs.get(id)))).map((r) => r.config.budgetFlops)),
    ];
    return {
      subject: { scope: 'study', id: study.id, name: study.name, budgets: budgets.sort((a, b) => a - b) },
      runIds,
      datasetId: study.datasetId,
      study,
    };
  }
  if (request.sweepId !== undefined) {
    const sweep = await stores.sweeps.get(request.sweepId);
    if (sweep.runIds.length === 0) throw new IsoflopError('BAD_REQUEST', `Sweep ${sweep.id} has no runs to report on.`);
    return {
      subject: { scope: 'sweep', id: sweep.id, name: sweep.name, budgets: sweep.budgets },
      runIds: sweep.runIds,
      datasetId: sweep.datasetId,
    };
  }
  const ids = [...new Set(request.runIds)];
  if (ids.length === 0) throw new IsoflopError('BAD_REQUEST', 'Choose at least one run to report on.');
  const runs = [];
  for (const id of ids) runs.push(await stores.runs.get(id));
  const datasets = [...new Set(runs.map((run) => run.config.datasetId))];
  if (datasets.length > 1) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `These runs were trained on different datasets (${datasets.join(', ')}); a report covers one dataset. Choose runs of one.`,
    );
  }
  const names = runs.map((run) => run.name);
  return {
    subject: {
      scope: 'runs',
      id: `runs-${createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 8)}`,
      name:
        runs.length === 1
          ? (names[0] as string)
          : `${runs.length} runs: ${names.slice(0, 3).join('; ')}${runs.length > 3 ? '; …' : ''}`,
      budgets: [...new Set(runs.map((run) => run.config.budgetFlops))].sort((a, b) => a - b),
    },
    runIds: ids,
    datasetId: datasets[0] as string,
  };
}

/** The reports in <data>/reports/, newest first. */
export async function listReports(
  dataDir: string,
): Promise<Array<{ name: string; bytes: number; modifiedAt: string; source: ReportSource | null }>> {
  const folder = join(dataDir, 'reports');
  const names = (await readdir(folder).catch(() => [])).filter((name) => /^[a-z0-9-]+\.(pdf|json)$/i.test(name));
  const out = [];
  for (const name of names) {
    const info = await stat(join(folder, name));
    out.push({ name, bytes: info.size, modifiedAt: info.mtime.toISOString(), source: await sourceOf(folder, name) });
  }
  return out.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
}
