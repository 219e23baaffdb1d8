import { join } from 'node:path';
import { SweepId, SweepRecord } from '../../src-shared/contract';
import { JsonRecords } from './json-records';

/** `<data>/sweeps/<id>/sweep.json`: the plan and its run ids, written whole. Creating one: src-main/usecases/sweeps.ts. */
export class SweepStore extends JsonRecords<typeof SweepRecord> {
  constructor(dataDir: string) {
    super(join(dataDir, 'sweeps'), 'sweep.json', SweepId, SweepRecord, 'sweep');
  }
}
