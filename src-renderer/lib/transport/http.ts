import type { Channel } from '../../../src-shared/contract';
import type { Transport } from './transport';

/** Web mode: the same API as POST /api/<channel> on the server that served this page. */
export function httpTransport(base = '/api/'): Transport {
  return {
    async send(channel: Channel, input: unknown) {
      const response = await fetch(`${base}${channel}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(input ?? {}),
      });
      return response.json();
    },
  };
}
