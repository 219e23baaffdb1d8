import { randomBytes } from 'node:crypto';
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes a whole file so that readers see the old one or the new one, never half: temp, fsync, rename.
 * `noReplace`: a file already there is kept and `onExists` thrown (hard link, which fails if the name is
 * taken, instead of rename): two writers of one name cannot both win.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  noReplace?: { onExists: () => Error },
): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  if (noReplace) {
    try {
      await link(temp, path).catch(async (error: NodeJS.ErrnoException) => {
        // File systems without hard links (FAT, exFAT, some network mounts): create the name exclusively.
        if (error.code !== 'EPERM' && error.code !== 'ENOTSUP' && error.code !== 'EXDEV') throw error;
        const exclusive = await open(path, 'wx');
        try {
          await exclusive.writeFile(data);
          await exclusive.sync();
        } finally {
          await exclusive.close();
        }
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw noReplace.onExists();
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  } else await rename(temp, path);
  await syncDir(dirname(path));
}

/** Makes a rename durable; a no-op where directories cannot be opened (Windows). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot fsync a directory; its renames are durable enough for our purpose.
  }
}
