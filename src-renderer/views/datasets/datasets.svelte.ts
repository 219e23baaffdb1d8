import type { DatasetManifest, ImportRequest, Job } from '../../../src-shared/contract';
import { estimateEta } from '../../../src-shared/format';
import { client } from '../../lib/app.svelte';

/** The Datasets view's state: the list, the selection, and the import in progress. */

export type ImportOptions = Omit<ImportRequest, 'source'>;

export interface ImportProgress {
  phase: string;
  done: number;
  total: number;
  etaSeconds: number | null;
}

export const datasets = $state<{
  list: DatasetManifest[];
  loaded: boolean;
  preparingDemos: boolean;
  /** built-in demos the user deleted, which "Restore the demos" brings back */
  missingDemos: string[];
  error: string | null;
  selectedId: string | null;
}>({ list: [], loaded: false, preparingDemos: false, missingDemos: [], error: null, selectedId: null });

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function refresh(): Promise<void> {
  try {
    const result = await client.call('datasets.list', {});
    datasets.list = result.datasets;
    datasets.preparingDemos = result.preparingDemos;
    datasets.missingDemos = result.missingDemos;
    datasets.error = result.demoError;
    datasets.loaded = true;
    if (!datasets.list.some((d) => d.id === datasets.selectedId)) datasets.selectedId = datasets.list[0]?.id ?? null;
    // The demos are made in the background on a data folder's first start: look again until they are there.
    if (result.preparingDemos) setTimeout(() => void refresh(), 700);
  } catch (error) {
    datasets.error = messageOf(error);
    datasets.loaded = true;
  }
}

export async function renameDataset(id: string, name: string): Promise<void> {
  const renamed = await client.call('datasets.rename', { id, name });
  datasets.list = datasets.list.map((d) => (d.id === id ? renamed : d));
}

export async function deleteDataset(id: string): Promise<void> {
  await client.call('datasets.delete', { id });
  datasets.list = datasets.list.filter((d) => d.id !== id);
  if (datasets.selectedId === id) datasets.selectedId = datasets.list[0]?.id ?? null;
  const { missingDemos } = await client.call('datasets.list', {});
  datasets.missingDemos = missingDemos;
}

/** Makes the deleted built-in demos again (from their seeds: the same data as before) and lists them. */
export async function restoreDemos(): Promise<string[]> {
  const { restored } = await client.call('datasets.restoreDemos', {});
  await refresh();
  return restored;
}

/** Sends the file (or its path), starts the import job and follows it to the end. */
export async function importFile(
  file: File,
  options: ImportOptions,
  onProgress: (progress: ImportProgress) => void,
): Promise<DatasetManifest> {
  const started = performance.now();
  const source = await client.prepareFile(file, (done, total) => {
    onProgress({
      phase: 'uploading',
      done,
      total,
      etaSeconds: estimateEta((performance.now() - started) / 1000, done, total),
    });
  });
  let job: Job = await client.call('datasets.import', { ...options, source });
  while (job.state === 'running') {
    onProgress({ phase: job.phase, done: job.bytesDone, total: job.bytesTotal, etaSeconds: job.etaSeconds });
    await sleep(150);
    job = await client.call('jobs.get', { id: job.id });
  }
  if (job.state === 'failed' || !job.datasetId) throw new Error(job.error?.message ?? 'The import failed.');
  const manifest = await client.call('datasets.get', { id: job.datasetId });
  datasets.list = [manifest, ...datasets.list.filter((d) => d.id !== manifest.id)];
  datasets.selectedId = manifest.id;
  return manifest;
}

/** The header row of a CSV the user picked, read in the page, so the target column can be chosen before upload. */
export async function readCsvHeader(file: File): Promise<string[]> {
  const { csvHeader } = await import('../../../src-shared/data/csv');
  return csvHeader(await file.slice(0, 256 * 1024).text(), file.name);
}
