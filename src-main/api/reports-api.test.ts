import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { queuedRun } from '../store/runs';
import { tempFolder } from '../testing';
import { createApp } from './index';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function appWith(options: Parameters<typeof createApp>[1]) {
  const folder = tempFolder();
  cleanups.push(folder.cleanup);
  const app = createApp(join(folder.dir, 'data'), options);
  const call = <T>(channel: string, input: unknown) =>
    app.router.invoke(channel as never, input as never, { transport: 'ipc' }) as Promise<T>;
  return { app, call, dir: folder.dir };
}

/** A finished run on an imported table, so there is something to report on. */
async function oneRun(app: ReturnType<typeof createApp>, dir: string): Promise<string> {
  const csv = join(dir, 't.csv');
  writeFileSync(
    csv,
    `a,b,y\n${Array.from({ length: 200 }, (_, i) => `${Math.sin(i)},${Math.cos(i)},${i % 3}`).join('\n')}\n`,
  );
  const dataset = await app.datasets.importFrom({ source: { path: csv }, path: csv, displayName: 't.csv' });
  if (dataset.kind !== 'table') throw new Error('not a table');
  const run = queuedRun('run-r', 'run r', null, {
    datasetId: dataset.id,
    model: {
      family: 'mlp',
      inputs: dataset.features,
      width: 4,
      depth: 1,
      activation: 'tanh',
      dropout: 0,
      task: 'regression',
      outputs: 1,
    },
    batchSize: 8,
    budgetFlops: 1e5,
    plannedTokens: 80,
    plannedSteps: 10,
    peakLearningRate: 1e-3,
    warmupSteps: 1,
    weightDecay: 0,
    l1: 0,
    l2: 0,
    earlyStopping: null,
    seed: 1,
    evalSteps: [10],
  });
  await app.runs.create(run);
  return run.id;
}

describe('reports over the API', () => {
  it('prints PDFs with the printer the host gives (the desktop app passes Electron’s)', async () => {
    const printed: Array<{ html: string; paper: string }> = [];
    const { app, call, dir } = appWith({
      printPdf: async (html, paper) => {
        printed.push({ html, paper });
        return new TextEncoder().encode('%PDF-1.7 stand-in');
      },
    });
    const id = await oneRun(app, dir);
    const { files } = await call<{ files: string[] }>('reports.export', {
      runIds: [id],
      format: 'pdf',
      paper: 'Letter',
      name: 'printed',
    });
    expect(files).toEqual(['printed.pdf']);
    expect(printed).toHaveLength(1);
    expect(printed[0]?.paper).toBe('Letter');
    expect(printed[0]?.html).toContain('<h2>Runs</h2>');
    expect(readFileSync(join(app.dataDir, 'reports', 'printed.pdf'), 'utf8')).toBe('%PDF-1.7 stand-in');
  });

  it('reveals a report in the file manager, or says where it is when none opens', async () => {
    const shown: string[] = [];
    const ok = appWith({ reveal: async (path) => void shown.push(path), printPdf: async () => new Uint8Array(4) });
    await ok.call('reports.export', {
      runIds: [await oneRun(ok.app, ok.dir)],
      format: 'json',
      paper: 'A4',
      name: 'r1',
    });
    const answer = await ok.call<{ path: string; revealed: boolean }>('reports.reveal', { name: 'r1.json' });
    expect(answer).toEqual({ path: join(ok.app.dataDir, 'reports', 'r1.json'), revealed: true, message: null });
    expect(shown).toEqual([answer.path]);
    expect(existsSync(answer.path)).toBe(true);
    await expect(ok.call('reports.reveal', { name: 'missing.pdf' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ok.call('reports.reveal', { name: '../../etc/passwd' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });

    const failing = appWith({
      reveal: async () => {
        throw new Error('xdg-open is not installed, so no file manager could be opened');
      },
    });
    await failing.call('reports.export', {
      runIds: [await oneRun(failing.app, failing.dir)],
      format: 'json',
      paper: 'A4',
      name: 'r2',
    });
    const refused = await failing.call<{ revealed: boolean; message: string }>('reports.reveal', { name: 'r2.json' });
    expect(refused.revealed).toBe(false);
    expect(refused.message).toContain('xdg-open is not installed');
    expect(refused.message).toContain(join(failing.app.dataDir, 'reports', 'r2.json'));
  });
});

describe('the default revealer', () => {
  it.skipIf(process.platform !== 'linux')('opens no file manager where there is no display, and says so', async () => {
    const { openFolderOf } = await import('../export/reveal');
    await expect(openFolderOf('/tmp/x.pdf', {})).rejects.toThrow('no display');
  });
});
