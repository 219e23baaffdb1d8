import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { IsoflopError, ReportData } from '../../src-shared/contract';
import { buildReport } from '../../src-shared/report/build';
import { renderReportHtml } from '../../src-shared/report/html';
import { writeFileAtomic } from '../store/atomic';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { SweepStore } from '../store/sweeps';
import { appVersion } from '../version';
import { printPdf } from './pdf';

/** A sweep's report as JSON and/or PDF, written whole (temp, rename), with a copy in <data>/reports/. */

export interface ExportRequest {
  sweepId: string;
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
  stores: { runs: RunStore; sweeps: SweepStore; datasets: DatasetStore; dataDir: string },
  request: ExportRequest,
): Promise<{ files: string[]; report: ReportData }> {
  if (request.out !== null) checkFolder(request.out);
  const sweep = await stores.sweeps.get(request.sweepId);
  if (sweep.runIds.length === 0) throw new IsoflopError('INVALID_INPUT', `Sweep ${sweep.id} has no runs to report on.`);
  const runs = [];
  for (const id of sweep.runIds) runs.push({ run: await stores.runs.get(id), metrics: await stores.runs.metrics(id) });
  const dataset = await stores.datasets.get(sweep.datasetId);
  const report = ReportData.parse(buildReport({ sweep, runs, dataset, appVersion, budget: request.budget }));
  const base = request.out?.replace(/\.(pdf|json)$/i, '') ?? null;
  const files: string[] = [];
  const archive = join(stores.dataDir, 'reports');
  await mkdir(archive, { recursive: true });
  const stamp = report.generatedAt.replace(/[:.]/g, '-');
  if (request.format !== 'pdf') {
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const archived = join(archive, `${sweep.id}-${stamp}.json`);
    await writeFileAtomic(archived, json);
    if (base !== null) {
      const file = request.format === 'json' ? (request.out as string) : `${base}.json`;
      await writeFileAtomic(file, json);
      files.push(file);
    } else files.push(archived);
  }
  if (request.format !== 'json') {
    const pdf = await printPdf(renderReportHtml(report), request.paper, report.title);
    const archived = join(archive, `${sweep.id}-${stamp}.pdf`);
    await writeFileAtomic(archived, pdf);
    if (base !== null) {
      const file = request.format === 'pdf' ? (request.out as string) : `${base}.pdf`;
      await writeFileAtomic(file, pdf);
      files.push(file);
    } else files.push(archived);
  }
  return { files, report };
}

/** The reports in <data>/reports/, newest first. */
export async function listReports(
  dataDir: string,
): Promise<Array<{ name: string; bytes: number; modifiedAt: string }>> {
  const folder = join(dataDir, 'reports');
  const names = (await readdir(folder).catch(() => [])).filter((name) => /^[a-z0-9-]+\.(pdf|json)$/i.test(name));
  const out = [];
  for (const name of names) {
    const info = await stat(join(folder, name));
    out.push({ name, bytes: info.size, modifiedAt: info.mtime.toISOString() });
  }
  return out.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
}
