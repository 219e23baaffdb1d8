import {
  api,
  type BytesSource,
  type Channel,
  type ImportSource,
  type Input,
  type Output,
  unwrapResult,
} from '../../../src-shared/contract';

/**
 * How the renderer reaches the main side. Two implementations (Electron IPC, HTTP);
 * the code above this interface cannot tell which one it has.
 */
export interface Transport {
  send(channel: Channel, input: unknown): Promise<unknown>;
  /**
   * Makes a file the user chose importable: the desktop app hands over its path, a browser uploads it.
   * `onProgress` sees bytes sent, where there is anything to send.
   */
  prepareFile(file: File, onProgress: (done: number, total: number) => void): Promise<ImportSource>;
  /** Makes bytes (checkpoint weights) sendable in an API call: as they are over IPC, uploaded from a browser. */
  prepareBytes(bytes: Uint8Array): Promise<BytesSource>;
}

export interface ApiClient {
  /** Calls one API channel; throws IsoflopError with the main side's code and message on failure. */
  call<C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>>;
  prepareFile: Transport['prepareFile'];
  prepareBytes: Transport['prepareBytes'];
}

export function createClient(transport: Transport): ApiClient {
  return {
    async call(channel, input) {
      const value = unwrapResult<unknown>(await transport.send(channel, input));
      // Trust nothing that crossed the boundary: parse it with the contract once, here.
      return api[channel].output.parse(value) as Output<typeof channel>;
    },
    prepareFile: (file, onProgress) => transport.prepareFile(file, onProgress),
    prepareBytes: (bytes) => transport.prepareBytes(bytes),
  };
}
