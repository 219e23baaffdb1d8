import type { Stats } from 'node:fs';
import { IsoflopError } from '../../src-shared/contract';

/** What a path is, in words, when it is not a regular file or folder: for messages that refuse it. */
export function describeKind(info: Stats): string {
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** Refuses anything but a regular file: a pipe would block a reader forever, a device never ends. */
export function requireRegularFile(info: Stats, shown: string): void {
  if (!info.isFile()) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `${shown} is ${describeKind(info)}, not a regular file: IsoFLOP reads only regular files. Copy the data into a file and import that.`,
    );
  }
}
