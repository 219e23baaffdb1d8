import { mkdir, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { z } from 'zod';
import { IsoflopError } from '../../src-shared/contract';
import { writeFileAtomic } from './atomic';
import { readRecord } from './read-record';

/**
 * A folder of records, one JSON file each: `<root>/<id>/<file>`, written whole (temp, fsync, rename),
 * parsed with the contract's schema on the way in and out. Sweeps and studies are kept this way.
 */
export class JsonRecords<Schema extends z.ZodType<{ id: string; createdAt: string }>> {
  constructor(
    readonly root: string,
    private readonly file: string,
    private readonly idSchema: z.ZodType<string>,
    private readonly schema: Schema,
    /** how messages name a record: "sweep", "study" */
    private readonly noun: string,
  ) {}

  private fileOf(id: string): string {
    const parsed = this.idSchema.safeParse(id);
    if (!parsed.success) throw new IsoflopError('BAD_REQUEST', `"${id}" is not a ${this.noun} id.`);
    return join(this.root, parsed.data, this.file);
  }

  async save(value: z.input<Schema>): Promise<z.output<Schema>> {
    const record = this.schema.parse(value);
    await mkdir(join(this.root, record.id), { recursive: true });
    await writeFileAtomic(this.fileOf(record.id), JSON.stringify(record, null, 2));
    return record;
  }

  async get(id: string): Promise<z.output<Schema>> {
    const file = this.fileOf(id);
    return readRecord(
      file,
      `${basename(this.root)}/${id}/${this.file}`,
      this.schema,
      `There is no ${this.noun} "${id}".`,
    );
  }

  async exists(id: string): Promise<boolean> {
    return this.get(id).then(
      () => true,
      () => false,
    );
  }

  /** Every readable record, newest first; damaged ones are left out. */
  async list(): Promise<Array<z.output<Schema>>> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const records: Array<z.output<Schema>> = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const record = await this.get(entry.name).catch(() => null);
      if (record) records.push(record);
    }
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
