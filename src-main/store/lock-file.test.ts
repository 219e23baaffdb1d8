import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempFolder } from '../testing';
import { lockFileHolder, tryLockFile, withLockFile } from './lock-file';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function lockPath(): string {
  const folder = tempFolder();
  cleanups.push(folder.cleanup);
  return join(folder.dir, 'lock');
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('lock files', () => {
  it('one holder at a time; a dead holder on this host or an old one elsewhere is taken over', async () => {
    const file = lockPath();
    const release = await tryLockFile(file, 60_000);
    expect(release).not.toBeNull();
    expect(await lockFileHolder(file, 60_000)).toBe('this process');
    expect(await tryLockFile(file, 60_000)).toBeNull();
    await release?.();
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), at: new Date().toISOString() }));
    expect(await lockFileHolder(file, 60_000)).toBeNull();
    expect(await tryLockFile(file, 60_000)).not.toBeNull();

    const elsewhere = (at: Date) => JSON.stringify({ pid: 1, host: `${hostname()}-other`, at: at.toISOString() });
    writeFileSync(file, elsewhere(new Date()));
    expect(await lockFileHolder(file, 60_000)).toBe('other');
    writeFileSync(file, elsewhere(new Date(Date.now() - 120_000)));
    expect(await lockFileHolder(file, 60_000)).toBeNull();
  });

  it('a release removes only its own lock, never one another process has taken since', async () => {
    const file = lockPath();
    const release = await tryLockFile(file, 60_000);
    // As if this lock had gone stale and another process had taken it over.
    const other = JSON.stringify({
      pid: process.ppid,
      host: hostname(),
      at: new Date().toISOString(),
      nonce: 'theirs',
    });
    writeFileSync(file, other);
    await release?.();
    expect(readFileSync(file, 'utf8')).toBe(other);
    // A takeover lock left by a crash does not block a stale lock's takeover for long.
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), at: new Date().toISOString() }));
    writeFileSync(`${file}.takeover`, '');
    expect(await tryLockFile(file, 60_000)).toBeNull();
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.takeover`, old, old);
    expect(await tryLockFile(file, 60_000)).toBeNull(); // this try clears it...
    expect(await tryLockFile(file, 60_000)).not.toBeNull(); // ...and the next takes the stale lock over
    expect(existsSync(`${file}.takeover`)).toBe(false);
  });

  it('a lock file not yet written counts as held for a few seconds, then as stale', async () => {
    const file = lockPath();
    writeFileSync(file, '');
    expect(await lockFileHolder(file, 60_000)).toBe('other');
    expect(await tryLockFile(file, 60_000)).toBeNull();
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    expect(await lockFileHolder(file, 60_000)).toBeNull();
  });

  it('withLockFile runs changes one at a time, and names the record when the wait runs out', async () => {
    const file = lockPath();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLockFile(file, 'Study s', async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    writeFileSync(file, JSON.stringify({ pid: process.ppid, host: hostname(), at: new Date().toISOString() }));
    await expect(withLockFile(file, 'Study s', async () => 1, { waitMs: 200 })).rejects.toThrow(
      /^Study s stayed locked by another process for 0 s/,
    );
  });
});
