import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempFolder } from '../testing';
import { isoflopProcess } from './cli-fixture';

// `isoflop sweep --jobs N`, the real binary: N processes share one sweep's runs through the runs' locks.
const folder = tempFolder();
afterAll(() => folder.cleanup());

describe('isoflop sweep --jobs', () => {
  it('trains a sweep with two processes, each run once, and prints one summary', async () => {
    const store = join(folder.dir, 'store');
    // Runs of a second or more each, so the job process (which starts cold) has runs left to claim.
    const result = await isoflopProcess([
      'sweep',
      '--demo',
      'teacher',
      '--budgets',
      '1e7,3e7',
      '--sizes',
      '3',
      '--jobs',
      '2',
      '--json',
      '--store',
      store,
    ]);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toContain('Training with 2 processes');
    // The second process took runs of its own.
    expect(result.err).toMatch(/\[job 2\] \[\d+\/\d+\] /);
    const summary = JSON.parse(result.out) as { runs: Array<{ id: string; status: string }> };
    expect(summary.runs.length).toBeGreaterThanOrEqual(4);
    expect(summary.runs.every((r) => r.status === 'completed')).toBe(true);
    // Each run trained once, from step 0 to its end: one start in its log, and no lock left behind.
    for (const { id } of summary.runs) {
      const record = JSON.parse(readFileSync(join(store, 'runs', id, 'run.json'), 'utf8'));
      expect(record.log.filter((entry: { message: string }) => /^Resumed/.test(entry.message))).toEqual([]);
      expect(readdirSync(join(store, 'runs', id))).not.toContain('lock');
    }
  }, 180_000);

  it('refuses --jobs with --shard, which split the runs two ways', async () => {
    const result = await isoflopProcess([
      'sweep',
      '--resume',
      'sweep-x',
      '--jobs',
      '2',
      '--shard',
      '0/2',
      '--store',
      join(folder.dir, 'other'),
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('--jobs and --shard split the runs two ways');
  });
});
