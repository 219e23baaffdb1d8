import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemInfo } from '../../src-shared/contract';
import { tempFolder } from '../testing';
import { createHandlers } from './handlers';
import { createApi, createApp } from './index';
import { createRouter, setInternalLog } from './router';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function apiOnTempStore() {
  const store = tempFolder();
  cleanups.push(store.cleanup);
  return { dataDir: store.dir, router: createApi(store.dir) };
}

describe('API router', () => {
  it('answers system.info with the data folder, platform and the transport that asked', async () => {
    const { dataDir, router } = apiOnTempStore();
    const result = await router.call('system.info', {}, { transport: 'http' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const info = SystemInfo.parse(result.value);
    expect(info.dataDir).toBe(dataDir);
    expect(info.transport).toBe('http');
    expect(info.platform.node).toBe(process.versions.node);
    expect(info.appVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lays out the data folder when it opens it', () => {
    const { dataDir } = apiOnTempStore();
    expect(readdirSync(dataDir).sort()).toEqual(['datasets', 'reports', 'runs', 'studies', 'sweeps']);
  });

  it('rejects a payload that breaks the schema, naming the field', async () => {
    const { router } = apiOnTempStore();
    const result = await router.call('system.info', { verbose: true }, { transport: 'ipc' });
    expect(result).toEqual({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('verbose') } });
  });

  it('rejects a payload that is not an object', async () => {
    const { router } = apiOnTempStore();
    const result = await router.call('system.info', 'hello', { transport: 'ipc' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('BAD_REQUEST');
  });

  it('answers an unknown channel with a typed error listing the known ones', async () => {
    const { router } = apiOnTempStore();
    for (const channel of ['system.reboot', '__proto__', 'constructor', '']) {
      const result = await router.call(channel, {}, { transport: 'http' });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('UNKNOWN_CHANNEL');
        expect(result.error.message).toContain('system.info');
      }
    }
  });

  it('turns a handler that throws into an INTERNAL error instead of throwing across the boundary', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const router = createRouter({
      ...createHandlers(createApp(store.dir)),
      'system.info': () => {
        throw new Error('disk on fire');
      },
    });
    const logged: string[] = [];
    setInternalLog((line) => logged.push(line));
    const result = await router.call('system.info', {}, { transport: 'http' });
    setInternalLog((line) => console.error(line));
    // The answer may cross HTTP: a reference, not the error's text; the text goes to the log.
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'INTERNAL',
        message: expect.stringMatching(/^system\.info failed unexpectedly \(a bug, reference \w+\)/),
      },
    });
    expect(logged.join('\n')).toContain('disk on fire');
  });

  it('refuses to send an answer that breaks its own contract', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const handlers = createHandlers(createApp(store.dir));
    const router = createRouter({
      ...handlers,
      'system.info': (input, ctx) => ({ ...handlers['system.info'](input, ctx), dataDir: 42 as unknown as string }),
    });
    const result = await router.call('system.info', {}, { transport: 'http' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INTERNAL');
      expect(result.error.message).toContain('dataDir');
    }
  });

  it('invoke() returns the typed value for in-process callers', async () => {
    const { router, dataDir } = apiOnTempStore();
    const info = await router.invoke('system.info', {}, { transport: 'cli' });
    expect(info.transport).toBe('cli');
    expect(join(info.dataDir)).toBe(dataDir);
  });
});
