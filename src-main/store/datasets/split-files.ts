import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { IsoflopError } from '../../../src-shared/contract';
import type { SplitFractions, SplitName } from '../../../src-shared/data/splits';

/** Where an import writes its bytes; tests inject one that fails like a full disk. */
export interface WritableFile {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
export type OpenForWrite = (path: string) => Promise<WritableFile>;

export const openForWrite: OpenForWrite = async (path) => {
  const handle = await open(path, 'w');
  return {
    async write(bytes) {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    },
    async close() {
      await handle.sync();
      await handle.close();
    },
  };
};

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

/** train.bin, val.bin, test.bin, written through a buffer; write errors become messages a person can act on. */
export class SplitFiles {
  private readonly files = new Map<SplitName, WritableFile>();
  private readonly buffers = new Map<SplitName, { data: Uint8Array; used: number }>();
  private readonly queued: Array<[SplitName, Uint8Array]> = [];
  readonly bytes: Record<SplitName, number> = { train: 0, val: 0, test: 0 };

  constructor(
    private readonly dir: string,
    private readonly datasetLabel: string,
    private readonly opener: OpenForWrite = openForWrite,
  ) {}

  static fileName(split: SplitName): string {
    return `${split}.bin`;
  }

  async open(): Promise<void> {
    for (const split of ['train', 'val', 'test'] as const) {
      this.files.set(split, await this.guard(() => this.opener(join(this.dir, SplitFiles.fileName(split)))));
      this.buffers.set(split, { data: new Uint8Array(bufferBytes), used: 0 });
    }
  }

  /** Copies bytes into the split's buffer without waiting; full buffers queue for `flush`. */
  append(split: SplitName, bytes: Uint8Array): void {
    const buffer = this.buffers.get(split) as { data: Uint8Array; used: number };
    this.bytes[split] += bytes.length;
    if (buffer.used + bytes.length > buffer.data.length) {
      if (buffer.used > 0) this.queued.push([split, buffer.data.subarray(0, buffer.used)]);
      if (bytes.length > buffer.data.length) {
        this.queued.push([split, bytes.slice()]);
        this.buffers.set(split, { data: new Uint8Array(bufferBytes), used: 0 });
        return;
      }
      buffer.data = new Uint8Array(bufferBytes);
      buffer.used = 0;
    }
    buffer.data.set(bytes, buffer.used);
    buffer.used += bytes.length;
  }

  /** Writes the buffers that filled up since the last flush. */
  async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const [split, bytes] = this.queued.shift() as [SplitName, Uint8Array];
      await this.guard(() => (this.files.get(split) as WritableFile).write(bytes));
    }
  }

  async write(split: SplitName, bytes: Uint8Array): Promise<void> {
    this.append(split, bytes);
    await this.flush();
  }

  private async drain(split: SplitName): Promise<void> {
    await this.flush();
    const buffer = this.buffers.get(split) as { data: Uint8Array; used: number };
    if (buffer.used === 0) return;
    const bytes = buffer.data.subarray(0, buffer.used);
    buffer.data = new Uint8Array(bufferBytes);
    buffer.used = 0;
    await this.guard(() => (this.files.get(split) as WritableFile).write(bytes));
  }

  async close(): Promise<void> {
    for (const split of this.files.keys()) {
      await this.drain(split);
      await this.guard(() => (this.files.get(split) as WritableFile).close());
    }
    this.files.clear();
  }

  /** Closes quietly after a failure; the caller removes the folder. */
  async abandon(): Promise<void> {
    this.queued.length = 0;
    for (const file of this.files.values()) await file.close().catch(() => undefined);
    this.files.clear();
  }

  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const written = Object.values(this.bytes).reduce((a, b) => a + b, 0);
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new IsoflopError(
          'STORE_UNAVAILABLE',
          `The disk holding the data folder is full: ${this.datasetLabel} needed more than the ` +
            `${(written / 1e6).toFixed(1)} MB written so far. Free some space and import again; nothing was kept.`,
        );
      }
      throw new IsoflopError(
        'STORE_UNAVAILABLE',
        `Could not write ${this.datasetLabel} into ${this.dir}: ${(error as Error).message}. Nothing was kept.`,
      );
    }
  }
}
