import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src-shared/contract';
import { tempFolder } from '../testing';
import { type App, createApp } from './index';

let folder: ReturnType<typeof tempFolder>;
let app: App;

beforeEach(() => {
  folder = tempFolder();
  app = createApp(join(folder.dir, 'data'));
});
afterEach(() => folder.cleanup());

async function waitFor(id: string, transport: 'ipc' | 'cli' = 'ipc'): Promise<Job> {
  for (;;) {
    const job = await app.router.invoke('jobs.get', { id }, { transport });
    if (job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const lines = Array.from({ length: 400 }, (_, i) => `line ${i}: the loss falls as compute grows.`).join('\n');

describe('datasets over the API', () => {
  it('imports as a job with progress, then lists, renames and deletes', async () => {
    const path = join(folder.dir, 'corpus.txt');
    writeFileSync(path, lines);
    const started = await app.router.invoke(
      'datasets.import',
      { source: { path }, name: 'My corpus' },
      { transport: 'ipc' },
    );
    expect(started.state).toBe('running');
    const job = await waitFor(started.id);
    expect(job.state).toBe('succeeded');
    expect(job.bytesDone).toBe(job.bytesTotal);
    const id = job.datasetId as string;
    const listed = await app.router.invoke('datasets.list', {}, { transport: 'ipc' });
    expect(listed.datasets.map((d) => d.name)).toEqual(['My corpus']);
    expect(listed.preparingDemos).toBe(false);
    const renamed = await app.router.invoke('datasets.rename', { id, name: 'Renamed' }, { transport: 'ipc' });
    expect(renamed.name).toBe('Renamed');
    await app.router.invoke('datasets.delete', { id }, { transport: 'ipc' });
    expect((await app.router.invoke('datasets.list', {}, { transport: 'ipc' })).datasets).toEqual([]);
  });

  it('reports a failed import on the job, with the message naming the file', async () => {
    const path = join(folder.dir, 'empty.csv');
    writeFileSync(path, '');
    const started = await app.router.invoke('datasets.import', { source: { path } }, { transport: 'ipc' });
    const job = await waitFor(started.id);
    expect(job.state).toBe('failed');
    expect(job.error).toEqual({ code: 'INVALID_INPUT', message: expect.stringContaining('empty.csv is empty') });
  });

  it('refuses a path import from web mode, and ids that are not ids', async () => {
    const result = await app.router.call('datasets.import', { source: { path: '/etc/passwd' } }, { transport: 'http' });
    expect(result).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    for (const id of ['../../etc', 'a/b', '.']) {
      const got = await app.router.call('datasets.get', { id }, { transport: 'http' });
      expect(got).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
    const missing = await app.router.call('datasets.get', { id: 'nope' }, { transport: 'http' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
