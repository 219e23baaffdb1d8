import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { IsoflopError } from '../../src-shared/contract';

const appFolderName = 'IsoFLOP';

export interface DataDirSources {
  /** --store DIR */
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

/** The data folder: --store beats ISOFLOP_HOME beats the platform's per-user app data folder. */
export function resolveDataDir(sources: DataDirSources = {}): string {
  const env = sources.env ?? process.env;
  if (sources.flag) return resolve(sources.flag);
  if (env.ISOFLOP_HOME) return resolve(env.ISOFLOP_HOME);
  const platform = sources.platform ?? process.platform;
  const home = sources.home ?? homedir();
  if (platform === 'win32') {
    return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), appFolderName);
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', appFolderName);
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), appFolderName);
}

export const storeFolders = ['datasets', 'runs', 'sweeps', 'studies', 'reports'] as const;

/** Creates the data folder's layout if it is missing and checks it can be written. */
export function ensureDataDir(dir: string): string {
  try {
    for (const folder of storeFolders) mkdirSync(join(dir, folder), { recursive: true });
    accessSync(dir, constants.R_OK | constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new IsoflopError(
      'STORE_UNAVAILABLE',
      `Cannot use the data folder ${dir} (${reason}). Choose another with --store DIR or ISOFLOP_HOME.`,
    );
  }
  return dir;
}
