import { type BytesSource, type Channel, type ImportSource, unwrapResult } from '../../../src-shared/contract';
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
    async prepareBytes(bytes) {
      const response = await fetch('/upload', {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes as Uint8Array<ArrayBuffer>,
      });
      const { uploadId } = unwrapResult<{ uploadId: string }>(await response.json());
      return { uploadId } satisfies BytesSource;
    },
    prepareFile(file, onProgress) {
      // XMLHttpRequest, not fetch: it reports upload progress, and streams the file from disk.
      return new Promise<ImportSource>((resolve, reject) => {
        const request = new XMLHttpRequest();
        request.open('POST', '/upload');
        request.setRequestHeader('Content-Type', 'application/octet-stream');
        request.upload.onprogress = (event) => onProgress(event.loaded, event.total || file.size);
        request.onerror = () => reject(new Error(`Uploading ${file.name} failed: the connection to IsoFLOP was lost.`));
        request.onload = () => {
          try {
            const { uploadId } = unwrapResult<{ uploadId: string }>(JSON.parse(request.responseText));
            resolve({ uploadId, fileName: file.name });
          } catch (error) {
            reject(error);
          }
        };
        request.send(file);
      });
    },
  };
}
