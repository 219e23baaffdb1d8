import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IsoflopError } from '../../src-shared/contract';
import { storeFault } from './fs-errors';

/**
 * Files a browser sends in web mode (it cannot hand over a path). Kept as hidden files in the
 * datasets folder until the import that uses them ends.
 */

const uploadIdPattern = /^[a-z0-9]{16,64}$/;

export function uploadPath(datasetsRoot: string, uploadId: string): string {
  if (!uploadIdPattern.test(uploadId)) throw new IsoflopError('BAD_REQUEST', `"${uploadId}" is not an upload id.`);
  return join(datasetsRoot, `.upload-${uploadId}`);
}

/**
 * Streams a body into a hidden upload file. Over `limit` bytes it stops, removes what it wrote and throws
 * `overLimit()`; the leftover of an upload the process died in is removed when the store next opens.
 */
export async function saveUpload(
  datasetsRoot: string,
  body: Readable,
  limit = Number.POSITIVE_INFINITY,
  overLimit: () => Error = () => new IsoflopError('TOO_LARGE', `The upload is larger than ${limit} bytes.`),
): Promise<{ uploadId: string; bytes: number }> {
  const uploadId = randomBytes(12).toString('hex');
  const path = uploadPath(datasetsRoot, uploadId);
  const partial = `${path}.part`;
  let received = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > limit) done(overLimit());
      else done(null, chunk);
    },
  });
  try {
    await pipeline(body, counted, createWriteStream(partial));
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof IsoflopError) {
      // Read the rest of the body away unkept, so the client gets the answer instead of a reset.
      body.resume();
      throw error;
    }
    const fault = storeFault(error);
    if (fault !== null)
      throw new IsoflopError(
        'STORE_UNAVAILABLE',
        `The data folder cannot be written (${fault}); the upload was discarded.`,
      );
    const code = (error as NodeJS.ErrnoException).code;
    // The client went away mid-body, or the stream broke: its mistake or the network's, not the store's.
    throw new IsoflopError(
      'BAD_REQUEST',
      `The upload did not finish (${code ?? 'cut short'}); nothing was kept. Try again.`,
    );
  }
  return { uploadId, bytes: (await stat(path)).size };
}

export async function discardUpload(datasetsRoot: string, uploadId: string): Promise<void> {
  await rm(uploadPath(datasetsRoot, uploadId), { force: true });
}

/** Reads an upload whole and discards it (checkpoint weights: what the API call names, it consumes). */
export async function takeUpload(datasetsRoot: string, uploadId: string, limit = 2 * 1024 ** 3): Promise<Uint8Array> {
  const path = uploadPath(datasetsRoot, uploadId);
  const size = (await stat(path).catch(() => null))?.size;
  if (size !== undefined && size > limit) {
    await rm(path, { force: true });
    throw new IsoflopError(
      'TOO_LARGE',
      `Upload "${uploadId}" holds ${size} bytes, more than the ${limit} this call reads.`,
    );
  }
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new IsoflopError('NOT_FOUND', `There is no upload "${uploadId}"; send the bytes to /upload first.`);
  } finally {
    await rm(path, { force: true });
  }
}
