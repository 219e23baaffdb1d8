import { arch, platform } from 'node:os';
import { appVersion } from '../version';
import type { Handlers } from './router';

export interface AppContext {
  dataDir: string;
}

/** The main side's answers to every channel in the contract. */
export function createHandlers(app: AppContext): Handlers {
  return {
    'system.info': (_input, ctx) => ({
      appVersion,
      dataDir: app.dataDir,
      platform: {
        os: platform(),
        arch: arch(),
        node: process.versions.node,
        electron: process.versions.electron ?? null,
        chrome: process.versions.chrome ?? null,
      },
      transport: ctx.transport,
    }),
  };
}
