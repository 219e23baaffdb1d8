import { join } from 'node:path';
import { StudyId, StudyRecord } from '../../src-shared/contract';
import { JsonRecords } from './json-records';

/**
 * `<data>/studies/<id>/study.json`, written whole: the space, the sampler, every trial with its parameters,
 * state, value and intermediate values. What a study does with them is in src-main/usecases/studies.ts.
 */
export class StudyStore extends JsonRecords<typeof StudyRecord> {
  constructor(dataDir: string) {
    super(join(dataDir, 'studies'), 'study.json', StudyId, StudyRecord, 'study');
  }
}
