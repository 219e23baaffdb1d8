import type { Channel } from '../../../src-shared/contract';
import type { Transport } from './transport';

/** What the preload exposes: one named function per API call. */
export interface PreloadApi {
  api: Record<string, (input: unknown) => Promise<unknown>>;
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
  };
}
