import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { IsoflopError } from '../../../../src-shared/contract';
import { type SplitFractions, type SplitName, splitNames } from '../../../../src-shared/data/splits';

/** Where an import writes its bytes; tests inject one that fails like a full disk. */
export interface WritableFile {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
export type OpenForWrite = (path: string) => Promise<WritableFile>;

/** Opens a file whose bytes reach the disk (fsync) before `close` resolves. */
export const openForWrite: OpenForWrite = (path) => openFile(path, true);
/** Opens a scratch file, deleted before the import ends: no fsync. */
export const openScratch: OpenForWrite = (path) => openFile(path, false);

/** A durable file starts flushing what it holds to the disk every this many bytes, while writing goes on. */
const syncEveryBytes = 16 << 20;

async function openFile(path: string, durable: boolean): Promise<WritableFile> {
  const handle = await open(path, 'w');
  // Without early syncs the kernel keeps a whole import in its page cache and the final fsync then
  // waits for all of it; syncing as we go lets the disk write while the importer parses the next bytes.
  let unsynced = 0;
  let syncing: Promise<void> = Promise.resolve();
  let syncError: unknown = null;
  return {
    async write(bytes) {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
      if (syncError) throw syncError;
      unsynced += bytes.length;
      if (durable && unsynced >= syncEveryBytes) {
        unsynced = 0;
        await syncing; // at most one early sync in flight
        syncing = handle.datasync().catch((error: unknown) => {
          syncError = error;
        });
      }
    },
    async close() {
      await syncing;
      if (syncError) throw syncError;
      if (durable) await handle.sync();
      await handle.close();
    },
  };
}

/** What every importer is told: where to write, how to split, whom to tell about progress. */
export interface ImportTarget {
  seed: number;
  fractions: SplitFractions;
  /** the hidden temp folder the dataset is built in */
  dir: string;
  /** how messages name the dataset */
  label: string;
  onProgress(phase: string, done: number, total: number): void;
  opener?: OpenForWrite | undefined;
}

const bufferBytes = 4 << 20;
/** Appends at least this big are written as they are, without a copy. */
const directBytes = 256 << 10;
/** How far the writes may run behind the caller before `flush` waits. */
const maxInFlightBytes = 32 << 20;

/**
 * train.bin, val.bin, test.bin, written through a buffer; write errors become messages a person can act on.
 * Writes run in the background, in order per file, while the caller prepares the next bytes; `flush` waits
 * only when they fall far behind, and reports the first write that failed.
 */
export class SplitFiles<Name extends string = SplitName> {
  private readonly files = new Map<Name, WritableFile>();
  private readonly buffers = new Map<Name, { data: Uint8Array; used: number }>();
  private readonly queued: Array<[Name, Uint8Array]> = [];
  private readonly chains = new Map<Name, Promise<void>>();
  private readonly inFlight: Array<Promise<void>> = [];
  private inFlightBytes = 0;
  private failure: { error: unknown } | null = null;
  readonly bytes: Record<Name, number>;

  /** `names`: the files, `<name>.<extension>` in `dir` (by default the three splits' .bin files). */
  constructor(
    private readonly dir: string,
    private readonly datasetLabel: string,
    private readonly opener: OpenForWrite = openForWrite,
    private readonly extension = 'bin',
    private readonly names: readonly Name[] = splitNames as unknown as readonly Name[],
  ) {
    this.bytes = Object.fromEntries(names.map((name) => [name, 0])) as Record<Name, number>;
  }

  static fileName(split: SplitName): string {
    return `${split}.bin`;
  }

  async open(): Promise<void> {
    for (const split of this.names) {
      const path = join(this.dir, `${split}.${this.extension}`);
      this.files.set(split, await this.guard(() => this.opener(path)));
      this.buffers.set(split, { data: new Uint8Array(bufferBytes), used: 0 });
      this.chains.set(split, Promise.resolve());
    }
  }

  /**
   * Queues bytes for the split without waiting. They are copied into a buffer, unless the caller gives
   * them away (`owned`: it will not change them) and they are big enough to write as they are.
   */
  append(split: Name, bytes: Uint8Array, owned = false): void {
    const buffer = this.buffers.get(split) as { data: Uint8Array; used: number };
    this.bytes[split] += bytes.length;
    if (owned && bytes.length >= directBytes) {
      this.takeBuffer(split);
      this.queued.push([split, bytes]);
      return;
    }
    if (buffer.used + bytes.length > buffer.data.length) this.takeBuffer(split);
    buffer.data.set(bytes, buffer.used);
    buffer.used += bytes.length;
  }

  /** Starts writing what was queued; waits only while too much is still being written. */
  async flush(): Promise<void> {
    for (const [split, bytes] of this.queued.splice(0)) this.startWrite(split, bytes);
    while (this.inFlightBytes > maxInFlightBytes && this.inFlight.length > 0) await this.inFlight.shift();
    if (this.failure) throw this.failure.error;
  }

  async write(split: Name, bytes: Uint8Array, owned = false): Promise<void> {
    this.append(split, bytes, owned);
    await this.flush();
  }

  /** Writes everything, syncs and closes the three files. */
  async close(): Promise<void> {
    for (const split of this.files.keys()) this.takeBuffer(split);
    await this.flush();
    await Promise.all(this.chains.values());
    if (this.failure) throw this.failure.error;
    await Promise.all([...this.files.values()].map((file) => this.guard(() => file.close())));
    this.files.clear();
  }

  /** Closes quietly after a failure; the caller removes the folder. */
  async abandon(): Promise<void> {
    this.queued.length = 0;
    this.failure ??= { error: new Error('abandoned') };
    await Promise.all(this.chains.values());
    for (const file of this.files.values()) await file.close().catch(() => undefined);
    this.files.clear();
  }

  private takeBuffer(split: Name): void {
    const buffer = this.buffers.get(split) as { data: Uint8Array; used: number };
    if (buffer.used === 0) return;
    if (buffer.used < bufferBytes / 4) {
      // A little: copy it out and keep the buffer, rather than allocate a new one.
      this.queued.push([split, buffer.data.slice(0, buffer.used)]);
    } else {
      this.queued.push([split, buffer.data.subarray(0, buffer.used)]);
      buffer.data = Buffer.allocUnsafe(bufferBytes);
    }
    buffer.used = 0;
  }

  private startWrite(split: Name, bytes: Uint8Array): void {
    const file = this.files.get(split) as WritableFile;
    this.inFlightBytes += bytes.length;
    const done = (this.chains.get(split) as Promise<void>).then(async () => {
      try {
        if (!this.failure) await this.guard(() => file.write(bytes));
      } catch (error) {
        this.failure ??= { error };
      } finally {
        this.inFlightBytes -= bytes.length;
        const at = this.inFlight.indexOf(done);
        if (at >= 0) this.inFlight.splice(at, 1);
      }
    });
    this.chains.set(split, done);
    this.inFlight.push(done);
  }

  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const written = Object.values<number>(this.bytes).reduce((a, b) => a + b, 0);
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new IsoflopError(
          'STORE_UNAVAILABLE',
          `The disk holding the data folder is full: ${this.datasetLabel} needed more than the ` +
            `${(written / 1e6).toFixed(1)} MB written so far. Free some space and import again; nothing was kept.`,
        );
      }
      throw new IsoflopError(
        'STORE_UNAVAILABLE',
        `Could not write ${this.datasetLabel} into the data folder (${(error as NodeJS.ErrnoException).code ?? 'error'}). Nothing was kept.`,
      );
    }
  }
}
