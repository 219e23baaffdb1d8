import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RunStore } from './runs';

/** How old a hidden staging file must be before it is taken for debris: no import or upload runs a day. */
export const leftoverAgeMs = 24 * 3600_000;

/**
 * What a crash or an abandoned upload leaves in a data folder, removed when the store opens: hidden
 * `.upload-*`, `.import-*`, `.create-*`, `.deleting-*` entries older than a day in every store folder, and
 * queued runs of a sweep or cross-validation that was never completed. Returns what it removed.
 */
export async function removeLeftovers(dataDir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const folder of ['datasets', 'runs', 'sweeps', 'studies', 'reports']) {
    const root = join(dataDir, folder);
    const stale = async (path: string) => {
      const info = await stat(path).catch(() => null);
      return info !== null && now - info.mtimeMs >= leftoverAgeMs;
    };
    for (const name of await readdir(root).catch(() => [] as string[])) {
      if (/^\.(upload|import|create|deleting)-/.test(name) || /^\..*\.tmp$/.test(name)) {
        if (!(await stale(join(root, name)))) continue;
        await rm(join(root, name), { recursive: true, force: true });
        removed.push(`${folder}/${name}`);
        continue;
      }
      // A record's folder: the temp file of a whole-file write that a crash cut short (".run.json.ab12.tmp").
      for (const inner of await readdir(join(root, name)).catch(() => [] as string[])) {
        if (!/^\..*\.tmp$/.test(inner) || !(await stale(join(root, name, inner)))) continue;
        await rm(join(root, name, inner), { force: true });
        removed.push(`${folder}/${name}/${inner}`);
      }
    }
  }
  for (const id of await new RunStore(dataDir).removeUncommitted()) removed.push(`runs/${id}`);
  return removed;
}
