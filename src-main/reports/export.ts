import { accessSync, constants, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
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
  /** file to write; for both formats its extension is replaced by .pdf and .json */
  out: string;
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
  checkFolder(request.out);
  const sweep = await stores.sweeps.get(request.sweepId);
  if (sweep.runIds.length === 0) throw new IsoflopError('INVALID_INPUT', `Sweep ${sweep.id} has no runs to report on.`);
  const runs = [];
  for (const id of sweep.runIds) runs.push({ run: await stores.runs.get(id), metrics: await stores.runs.metrics(id) });
  const dataset = await stores.datasets.get(sweep.datasetId);
  const report = ReportData.parse(buildReport({ sweep, runs, dataset, appVersion, budget: request.budget }));
  const base = request.out.replace(/\.(pdf|json)$/i, '');
  const files: string[] = [];
  const archive = join(stores.dataDir, 'reports');
  await mkdir(archive, { recursive: true });
  const stamp = report.generatedAt.replace(/[:.]/g, '-');
  if (request.format !== 'pdf') {
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const file = request.format === 'json' ? request.out : `${base}.json`;
    await writeFileAtomic(file, json);
    await writeFileAtomic(join(archive, `${sweep.id}-${stamp}.json`), json);
    files.push(file);
  }
  if (request.format !== 'json') {
    const pdf = await printPdf(renderReportHtml(report), request.paper, report.title);
    const file = request.format === 'pdf' ? request.out : `${base}.pdf`;
    await writeFileAtomic(file, pdf);
    await writeFileAtomic(join(archive, `${sweep.id}-${stamp}.pdf`), pdf);
    files.push(file);
  }
  return { files, report };
}
