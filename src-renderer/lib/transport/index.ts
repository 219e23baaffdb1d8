import { httpTransport } from './http';
import { ipcTransport, preloadApi } from './ipc';
import { type ApiClient, createClient } from './transport';

export type { ApiClient, Transport } from './transport';

/** The desktop app's preload wins; anywhere else the page talks HTTP to the server that served it. */
export function connect(): ApiClient {
  const bridge = preloadApi();
  return createClient(bridge ? ipcTransport(bridge) : httpTransport());
}
