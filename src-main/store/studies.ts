import { join } from 'node:path';
import { StudyId, StudyRecord } from '../../src-shared/contract';
import { JsonRecords } from './json-records';
import { withLockFile } from './lock-file';

/**
 * `<data>/studies/<id>/study.json`, written whole: the space, the sampler, every trial with its parameters,
 * state, value and intermediate values. What a study does with them is in src-main/usecases/studies.ts.
 */
export class StudyStore extends JsonRecords<typeof StudyRecord> {
  constructor(dataDir: string) {
    super(join(dataDir, 'studies'), 'study.json', StudyId, StudyRecord, 'study');
  }

  /**
   * Runs `change` holding the study's lock (`studies/<id>/lock`), so that processes training its trials
   * at once (`isoflop tune --jobs`, the app beside a CLI) read, change and write study.json one at a time
   * and no trial or reported value is lost. `change` must not take it again.
   */
  async locked<T>(id: string, change: () => Promise<T>): Promise<T> {
    await this.get(id);
    return withLockFile(join(this.root, id, 'lock'), `Study ${id}`, change);
  }
}
