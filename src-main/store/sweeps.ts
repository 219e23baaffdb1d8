import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IsoflopError, SweepId, SweepRecord } from '../../src-shared/contract';
import { writeFileAtomic } from './atomic';

/** `<data>/sweeps/<id>/sweep.json`: the plan and its run ids, written whole. */
export class SweepStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'sweeps');
  }

  private fileOf(id: string): string {
    const parsed = SweepId.safeParse(id);
    if (!parsed.success) throw new IsoflopError('BAD_REQUEST', `"${id}" is not a sweep id.`);
    return join(this.root, parsed.data, 'sweep.json');
  }

  async save(sweep: SweepRecord): Promise<SweepRecord> {
    const record = SweepRecord.parse(sweep);
    await mkdir(join(this.root, record.id), { recursive: true });
    await writeFileAtomic(this.fileOf(record.id), JSON.stringify(record, null, 2));
    return record;
  }

  async get(id: string): Promise<SweepRecord> {
    const file = this.fileOf(id);
    const text = await readFile(file, 'utf8').catch(() => {
      throw new IsoflopError('NOT_FOUND', `There is no sweep "${id}" in ${this.root}.`);
    });
    const parsed = SweepRecord.safeParse(JSON.parse(text));
    if (!parsed.success) throw new IsoflopError('INVALID_INPUT', `${file} is damaged.`);
    return parsed.data;
  }

  async exists(id: string): Promise<boolean> {
    return this.get(id).then(
      () => true,
      () => false,
    );
  }

  async list(): Promise<SweepRecord[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const sweeps: SweepRecord[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        const sweep = await this.get(entry.name).catch(() => null);
        if (sweep) sweeps.push(sweep);
      }
    }
    return sweeps.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
