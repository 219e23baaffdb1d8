import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IsoflopError } from '../../src-shared/contract';
import { tempFolder } from '../testing';
import { ensureDataDir, resolveDataDir, storeFolders } from './data-dir';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('the data folder', () => {
  it('prefers --store over ISOFLOP_HOME over the platform default', () => {
    const env = { ISOFLOP_HOME: '/srv/isoflop-home' };
    expect(resolveDataDir({ flag: 'relative/store', env })).toBe(resolve('relative/store'));
    expect(resolveDataDir({ env })).toBe('/srv/isoflop-home');
  });

  it("uses each platform's per-user app data folder", () => {
    const home = '/home/ada';
    expect(resolveDataDir({ env: {}, platform: 'linux', home })).toBe('/home/ada/.local/share/IsoFLOP');
    expect(resolveDataDir({ env: { XDG_DATA_HOME: '/data/xdg' }, platform: 'linux', home })).toBe('/data/xdg/IsoFLOP');
    expect(resolveDataDir({ env: {}, platform: 'darwin', home })).toBe('/home/ada/Library/Application Support/IsoFLOP');
    expect(resolveDataDir({ env: { APPDATA: 'C:/Users/ada/AppData/Roaming' }, platform: 'win32', home })).toBe(
      join('C:/Users/ada/AppData/Roaming', 'IsoFLOP'),
    );
  });

  it('creates the documented layout', () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const dir = join(store.dir, 'nested', 'store');
    ensureDataDir(dir);
    for (const folder of storeFolders) expect(existsSync(join(dir, folder))).toBe(true);
  });

  it('says which folder cannot be used and what to do, without creating anything', () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const file = join(store.dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const target = join(file, 'store');
    let thrown: unknown;
    try {
      ensureDataDir(target);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IsoflopError);
    expect((thrown as IsoflopError).code).toBe('STORE_UNAVAILABLE');
    expect((thrown as IsoflopError).message).toContain(target);
    expect((thrown as IsoflopError).message).toContain('--store');
  });
});
