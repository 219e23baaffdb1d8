import { randomBytes } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { IsoflopError } from '../../src-shared/contract';

/**
 * A lock that processes on one data folder share: a file created exclusively, holding its holder's pid,
 * host, time and a nonce of its own. A run's lock (`runs/<id>/lock`) is held while the run trains; a
 * study's (`studies/<id>/lock`) for the few milliseconds it takes to read, change and write study.json.
 * A lock whose holder died on this host, or one older than `staleMs` from another host, is taken over,
 * under a second lock (`<lock>.takeover`) so that two processes never both take over one stale lock; a
 * holder releases only the lock file that still holds its own nonce.
 */

type Holder = 'this process' | 'other' | null;

interface Content {
  pid: number;
  host: string;
  at: string;
  nonce?: string;
}

/** How long a lock file may stay empty or torn while its creator writes it before it counts as stale. */
const writingMs = 10_000;

async function readContent(file: string): Promise<{ content: Content | null; exists: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return { content: null, exists: false };
  }
  try {
    return { content: JSON.parse(text) as Content, exists: true };
  } catch {
    return { content: null, exists: true };
  }
}

/** Who holds the lock at `file`: this process, another live one, or nobody (no file, or a stale one). */
export async function lockFileHolder(file: string, staleMs: number): Promise<Holder> {
  const { content, exists } = await readContent(file);
  if (!exists) return null;
  if (!content) {
    // Created but not yet written (its creator is between open and write), or left torn by a crash.
    const info = await stat(file).catch(() => null);
    return info && Date.now() - info.mtimeMs < writingMs ? 'other' : null;
  }
  if (content.host !== hostname()) return Date.now() - Date.parse(content.at) > staleMs ? null : 'other';
  if (content.pid === process.pid) return 'this process';
  try {
    process.kill(content.pid, 0);
    return 'other';
  } catch {
    return null;
  }
}

/** Creates the lock file exclusively; its release removes it only while it still holds this nonce. */
async function claim(file: string): Promise<() => Promise<void>> {
  const nonce = randomBytes(8).toString('hex');
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(
      JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), nonce } satisfies Content),
    );
  } finally {
    await handle.close();
  }
  return async () => {
    const { content } = await readContent(file);
    if (content?.nonce === nonce) await rm(file, { force: true });
  };
}

const exists = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EEXIST';

/**
 * Takes the lock at `file` for this process, taking over a stale one. Returns its release, or null if it
 * is held (by this process too).
 */
export async function tryLockFile(file: string, staleMs: number): Promise<(() => Promise<void>) | null> {
  try {
    return await claim(file);
  } catch (error) {
    if (!exists(error)) throw error;
  }
  if ((await lockFileHolder(file, staleMs)) !== null) return null;
  // Stale, or released meanwhile. Only the process holding `.takeover` may remove a stale lock, after
  // reading it stale again: otherwise one process could remove the lock another has just taken.
  const takeover = `${file}.takeover`;
  let releaseTakeover: (() => Promise<void>) | null = null;
  try {
    releaseTakeover = await claim(takeover);
  } catch (error) {
    if (!exists(error)) throw error;
    // Another process is taking it over; a takeover lock left by a crash goes after a while.
    const info = await stat(takeover).catch(() => null);
    if (info && Date.now() - info.mtimeMs > writingMs) await rm(takeover, { force: true });
    return null;
  }
  try {
    const { exists: present } = await readContent(file);
    if (present) {
      if ((await lockFileHolder(file, staleMs)) !== null) return null;
      await rm(file, { force: true });
    }
    try {
      return await claim(file);
    } catch (error) {
      if (!exists(error)) throw error;
      return null;
    }
  } finally {
    await releaseTakeover();
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
