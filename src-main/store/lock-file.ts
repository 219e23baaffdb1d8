import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { IsoflopError } from '../../src-shared/contract';

/**
 * A lock that processes on one data folder share: a file created exclusively, holding its holder's pid,
 * host and time. A run's lock (`runs/<id>/lock`) is held while the run trains; a study's
 * (`studies/<id>/lock`) for the few milliseconds it takes to read, change and write study.json.
 * A lock whose holder died on this host, or one older than `staleMs` from another host, is taken over.
 */

type Holder = 'this process' | 'other' | null;

/** How long a lock file may stay empty or torn while its creator writes it before it counts as stale. */
const writingMs = 10_000;

/** Who holds the lock at `file`: this process, another live one, or nobody (no file, or a stale one). */
export async function lockFileHolder(file: string, staleMs: number): Promise<Holder> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  let holder: { pid: number; host: string; at: string };
  try {
    holder = JSON.parse(text);
  } catch {
    // Created but not yet written (its creator is between open and write), or left torn by a crash.
    const info = await stat(file).catch(() => null);
    return info && Date.now() - info.mtimeMs < writingMs ? 'other' : null;
  }
  if (holder.host !== hostname()) return Date.now() - Date.parse(holder.at) > staleMs ? null : 'other';
  if (holder.pid === process.pid) return 'this process';
  try {
    process.kill(holder.pid, 0);
    return 'other';
  } catch {
    return null;
  }
}

/**
 * Takes the lock at `file` for this process, taking over a stale one. Returns its release, or null if it
 * is held (by this process too).
 */
export async function tryLockFile(file: string, staleMs: number): Promise<(() => Promise<void>) | null> {
  const claim = async () => {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
    } finally {
      await handle.close();
    }
    return async () => {
      await rm(file, { force: true });
    };
  };
  try {
    return await claim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((await lockFileHolder(file, staleMs)) !== null) return null;
  await rm(file, { force: true });
  try {
    return await claim();
  } catch {
    return null;
  }
}

/**
 * Runs `change` holding the lock at `file`, waiting for it up to `waitMs` (other holders keep it for
 * milliseconds). `what` names the record in the error when the wait runs out. Not re-entrant: `change`
 * must not take the same lock.
 */
export async function withLockFile<T>(
  file: string,
  what: string,
  change: () => Promise<T>,
  { staleMs = 60_000, waitMs = 30_000 } = {},
): Promise<T> {
  const until = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const release = await tryLockFile(file, staleMs);
    if (release) {
      try {
        return await change();
      } finally {
        await release();
      }
    }
    if (Date.now() > until) {
      throw new IsoflopError(
        'CONFLICT',
        `${what} stayed locked by another process for ${Math.round(waitMs / 1000)} s (its lock file ${file} is held). If no isoflop process is running, delete that file and try again.`,
      );
    }
    // Short, spread-out waits: holders keep the lock for a read and a write.
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 + attempt * 2) * (0.5 + Math.random())));
  }
}
