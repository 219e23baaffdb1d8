import { constants } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { IsoflopError } from '../../src-shared/contract';
import type { DatasetStore } from '../store/datasets/store';
import { describeKind } from '../store/file-kind';
import type { RunStore } from '../store/runs';
import { contentTypeOf, securityHeaders } from './renderer-assets';

/**
 * `/data/...`: what the training worker and the user open by URL, over HTTP in web mode and over the
 * custom protocol in Electron, through `openDataFile`:
 * - `/data/datasets/<id>/<file>`: a dataset's binaries; single byte ranges are honoured so the worker
 *   can fetch a window;
 * - `/data/runs/<id>/checkpoints/<step>/<file>`: a checkpoint the worker resumes from;
 * - `/data/reports/<name>`: a report the app wrote.
 */

export const dataPrefix = '/data/';
const datasetsPrefix = '/data/datasets/';
const runsPrefix = '/data/runs/';
const servedFiles = new Set(['train.bin', 'val.bin', 'test.bin', 'tokenizer.json', 'dataset.json']);

export interface DataResponse {
  status: number;
  headers: Record<string, string>;
  body: Readable | null;
}

/** Parses one `bytes=a-b` range; null when the header is absent or asks for several ranges. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return header.includes(',') ? null : 'unsatisfiable';
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return 'unsatisfiable';
  let start: number;
  let end: number;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

const reportsPrefix = '/data/reports/';

/**
 * Opens a file of the data folder for serving, refusing what could lead outside it: the path must resolve
 * (realpath) inside `root`, and the file itself must be a regular file, not a link (opened with O_NOFOLLOW,
 * then checked on the open handle, so a link swapped in between is refused too).
 */
async function openInside(root: string, path: string, missing: string): Promise<{ fd: FileHandle; size: number }> {
  const [realRoot, realPath] = await Promise.all([realpath(root).catch(() => root), realpath(path).catch(() => null)]);
  if (realPath === null) throw new IsoflopError('NOT_FOUND', missing);
  if (relative(realRoot, realPath).startsWith('..') || isAbsolute(relative(realRoot, realPath))) {
    throw new IsoflopError('FORBIDDEN', 'That file is a link out of the data folder; IsoFLOP does not serve it.');
  }
  let fd: FileHandle;
  try {
    // O_NONBLOCK: a FIFO swapped in cannot make the open wait for a writer (it is refused below).
    fd = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new IsoflopError('FORBIDDEN', 'A symbolic link in the data folder is not served.');
    throw new IsoflopError('NOT_FOUND', missing);
  }
  const info = await fd.stat();
  // The file opened must be the one resolved above: a folder of the path swapped for a link in between
  // would lead the open elsewhere.
  const resolved = await stat(realPath).catch(() => null);
  if (!resolved || resolved.ino !== info.ino || resolved.dev !== info.dev) {
    await fd.close();
    throw new IsoflopError('FORBIDDEN', 'That file changed while it was opened; IsoFLOP does not serve it.');
  }
  if (!info.isFile()) {
    await fd.close();
    throw new IsoflopError('FORBIDDEN', `That file is ${describeKind(info)}; IsoFLOP serves only regular files.`);
  }
  return { fd, size: info.size };
}

/** `/data/reports/<name>`: a report the app wrote, to open in the browser. */
export async function openReportFile(dataDir: string, name: string): Promise<DataResponse> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    throw new IsoflopError('BAD_REQUEST', `"${name}" is not valid URL encoding.`);
  }
  if (!/^[a-z0-9-]+\.(pdf|json)$/i.test(decoded))
    throw new IsoflopError('FORBIDDEN', `"${decoded}" is not a report name.`);
  const { fd, size } = await openInside(
    join(dataDir, 'reports'),
    join(dataDir, 'reports', decoded),
    `There is no report "${decoded}".`,
  );
  return {
    status: 200,
    headers: {
      ...securityHeaders(),
      'Content-Type': decoded.endsWith('.pdf') ? 'application/pdf' : 'application/json; charset=utf-8',
      'Content-Length': String(size),
      'Cache-Control': 'no-cache',
    },
    body: fd.createReadStream(),
  };
}

export async function openDatasetFile(
  store: DatasetStore,
  rest: string,
  rangeHeader: string | undefined,
): Promise<DataResponse> {
  const parts = rest.split('/');
  let segments: string[];
  try {
    segments = parts.map((part) => decodeURIComponent(part));
  } catch {
    throw new IsoflopError('BAD_REQUEST', `"${rest}" is not valid URL encoding.`);
  }
  const [id = '', file = ''] = segments;
  const folder = store.folderOf(id); // validates the id: nothing outside the datasets folder can be named
  if (segments.length !== 2 || !servedFiles.has(file)) {
    throw new IsoflopError('NOT_FOUND', `Datasets serve only ${[...servedFiles].join(', ')}; not "${rest}".`);
  }
  const { fd, size } = await openInside(store.root, join(folder, file), `Dataset "${id}" has no ${file}.`);
  const info = { size };
  const base = {
    ...securityHeaders(),
    'Content-Type': contentTypeOf(file),
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
  };
  const range = parseRange(rangeHeader, info.size);
  if (range === 'unsatisfiable') {
    await fd.close();
    return { status: 416, headers: { ...base, 'Content-Range': `bytes */${info.size}` }, body: null };
  }
  if (range) {
    return {
      status: 206,
      headers: {
        ...base,
        'Content-Range': `bytes ${range.start}-${range.end}/${info.size}`,
        'Content-Length': String(range.end - range.start + 1),
      },
      body: fd.createReadStream({ start: range.start, end: range.end }),
    };
  }
  return { status: 200, headers: { ...base, 'Content-Length': String(info.size) }, body: fd.createReadStream() };
}

/** A checkpoint's file: `<id>/checkpoints/<step>/model.json|weights.bin`. */
export async function openCheckpointFile(runs: RunStore, rest: string): Promise<DataResponse> {
  const [id = '', folder = '', step = '', file = '', ...extra] = rest.split('/');
  const root = runs.folderOf(id); // validates the id: nothing outside the runs folder can be named
  if (
    folder !== 'checkpoints' ||
    !/^\d{1,15}$/.test(step) ||
    !['model.json', 'weights.bin'].includes(file) ||
    extra.length > 0
  ) {
    throw new IsoflopError(
      'NOT_FOUND',
      `Runs serve only checkpoints/<step>/model.json and weights.bin; not "${rest}".`,
    );
  }
  const { fd, size } = await openInside(
    runs.root,
    join(root, 'checkpoints', step, file),
    `Run "${id}" has no checkpoint at step ${step}.`,
  );
  return {
    status: 200,
    headers: {
      ...securityHeaders(),
      'Content-Type': contentTypeOf(file),
      'Content-Length': String(size),
      'Cache-Control': 'no-cache',
    },
    body: fd.createReadStream(),
  };
}

/** Any `/data/...` path, for the web server and the Electron protocol alike. */
export function openDataFile(
  stores: { datasets: DatasetStore; runs: RunStore; dataDir: string },
  pathname: string,
  rangeHeader: string | undefined,
): Promise<DataResponse> {
  if (pathname.startsWith(datasetsPrefix)) {
    return openDatasetFile(stores.datasets, pathname.slice(datasetsPrefix.length), rangeHeader);
  }
  if (pathname.startsWith(runsPrefix)) return openCheckpointFile(stores.runs, pathname.slice(runsPrefix.length));
  if (pathname.startsWith(reportsPrefix)) return openReportFile(stores.dataDir, pathname.slice(reportsPrefix.length));
  return Promise.reject(new IsoflopError('NOT_FOUND', `Nothing is served at ${pathname}.`));
}
