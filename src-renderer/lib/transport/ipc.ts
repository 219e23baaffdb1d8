import { type Channel, IsoflopError } from '../../../src-shared/contract';
import type { Transport } from './transport';

/** What the preload exposes: one named function per API call, and a file's path on disk. */
export interface PreloadApi {
  api: Record<string, (input: unknown) => Promise<unknown>>;
  pathForFile(file: File): string;
}

export function preloadApi(): PreloadApi | undefined {
  return (globalThis as { isoflop?: PreloadApi }).isoflop;
}

export function ipcTransport(bridge: PreloadApi): Transport {
  return {
    send(channel: Channel, input: unknown) {
      const call = bridge.api[channel];
      if (!call) return Promise.reject(new Error(`The desktop shell does not offer ${channel}; update IsoFLOP.`));
      return call(input);
    },
    async prepareBytes(bytes) {
      // Electron's IPC carries typed arrays as they are.
      return { bytes };
    },
    async prepareFile(file) {
      const path = bridge.pathForFile(file);
      if (!path) throw new IsoflopError('BAD_REQUEST', `${file.name} is not a file on this computer.`);
      return { path };
    },
  };
}
