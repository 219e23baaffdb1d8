import { ensureDataDir } from '../store/data-dir';
import { createHandlers } from './handlers';
import { createRouter, type Router } from './router';

export type { RequestContext, Router } from './router';

/** The API over one data folder, as every transport (IPC, HTTP, CLI) uses it. */
export function createApi(dataDir: string): Router {
  return createRouter(createHandlers({ dataDir: ensureDataDir(dataDir) }));
}
