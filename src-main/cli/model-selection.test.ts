import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tableStore, testFolder } from './cli-fixture';

// Model selection from the terminal: hyper-parameter studies (tune), cross-validation (cv), and the
// regularization a sweep gives its runs.

describe('isoflop tune', () => {
  it('runs a seeded study, prunes by the median rule, and reports the best trial', async () => {
    const folder = testFolder();
    const csv = join(folder.dir, 'table.csv');
    const rows = Array.from(
      { length: 800 },
      (_, i) => `${Math.sin(i)},${Math.cos(i * 0.7)},${Math.sin(i) * Math.cos(i * 0.7)}`,
    );
    writeFileSync(csv, `a,b,y\n${rows.join('\n')}\n`);
    const data = join(folder.dir, 'data');
    const imported = JSON.parse((await cli('datasets', 'import', csv, '--store', data, '--json')).out);
    const space = join(folder.dir, 'space.json');
    writeFileSync(
      space,
      JSON.stringify({ learningRate: { type: 'log', min: 1e-3, max: 3e-2 }, width: { type: 'int', min: 4, max: 32 } }),
    );
    const result = await cli(
      'tune',
      '--dataset',
      imported.id,
      '--space',
      space,
      '--sampler',
      'random',
      '--trials',
      '6',
      '--steps',
      '60',
      '--store',
      data,
      '--json',
    );
    expect(result.code).toBe(0);
    const study = JSON.parse(result.out);
    expect(study.trials).toHaveLength(6);
    const complete = study.trials.filter((t: { state: string }) => t.state === 'complete');
    expect(complete.length).toBeGreaterThan(0);
    expect(study.best.value).toBe(Math.min(...complete.map((t: { value: number }) => t.value)));
    expect(study.trials.every((t: { runId: string }) => t.runId.startsWith(study.studyId))).toBe(true);
  }, 120_000);

  it('refuses a bad search space before anything trains', async () => {
    const folder = testFolder();
    const space = join(folder.dir, 'space.json');
    for (const [content, message] of [
      [{ width: { type: 'int', min: 8, max: 8 } }, '"width" has an empty range'],
      [{ learningRate: { type: 'float', min: -0.1, max: 0.1 } }, '"learningRate" must be positive'],
    ] as const) {
      writeFileSync(space, JSON.stringify(content));
      const result = await cli(
        'tune',
        '--dataset',
        'demo-teacher',
        '--space',
        space,
        '--store',
        join(folder.dir, 'data'),
      );
      expect(result.code).toBe(2);
      expect(result.err).toContain(message);
      expect(existsSync(join(folder.dir, 'data', 'runs')) ? readdirSync(join(folder.dir, 'data', 'runs')) : []).toEqual(
        [],
      );
    }
  });
});

describe('isoflop tune with ASHA, and --resume', () => {
  it('prunes by successive halving, keeps the study in the store, and --resume of a finished study trains nothing', async () => {
    const { folder, data, id } = await tableStore();
    const space = join(folder.dir, 'space.json');
    writeFileSync(space, JSON.stringify({ learningRate: { type: 'log', min: 1e-4, max: 1e-1 } }));
    const args = ['tune', '--dataset', id, '--space', space, '--sampler', 'random', '--trials', '6', '--steps', '54'];
    const result = await cli(...args, '--pruner', 'asha', '--store', data, '--json');
    expect(result.code).toBe(0);
    const study = JSON.parse(result.out);
    expect(study.pruner).toBe('asha');
    const saved = JSON.parse(readFileSync(join(data, 'studies', study.studyId, 'study.json'), 'utf8'));
    expect(saved.trials).toHaveLength(6);
    expect(saved.trials.some((trial: { state: string }) => trial.state === 'pruned')).toBe(true);
    for (const trial of saved.trials) {
      if (trial.state === 'pruned') expect(trial.note).toMatch(/successive halving \(ASHA\) at step (2|6|18) /);
    }
    const runsBefore = readdirSync(join(data, 'runs')).length;
    const resumed = await cli('tune', '--resume', study.studyId, '--store', data, '--json');
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.out).trials).toEqual(study.trials);
    expect(readdirSync(join(data, 'runs')).length).toBe(runsBefore);
  }, 120_000);
});

describe('isoflop sweep regularization flags', () => {
  it('reach every run of the sweep, early stopping on accuracy with a min delta included', async () => {
    const { data, id } = await tableStore();
    const result = await cli(
      'sweep',
      '--dataset',
      id,
      '--budgets',
      '3e5',
      '--sizes',
      '2',
      '--backend',
      'cpu',
      '--weight-decay',
      '0.05',
      '--l1',
      '1e-5',
      '--dropout',
      '0.1',
      '--early-stopping',
      '2',
      '--early-stopping-metric',
      'val-accuracy',
      '--early-stopping-min-delta',
      '0.01',
      '--store',
      data,
      '--json',
    );
    expect(result.code, result.err).toBe(0);
    const { runs } = JSON.parse(result.out);
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs as Array<{ id: string }>) {
      const { config } = JSON.parse(readFileSync(join(data, 'runs', run.id, 'run.json'), 'utf8'));
      expect(config.weightDecay).toBe(0.05);
      expect(config.l1).toBe(1e-5);
      expect(config.model.dropout).toBe(0.1);
      expect(config.earlyStopping).toEqual({ patience: 2, minDelta: 0.01, restoreBest: true, metric: 'valAccuracy' });
    }
    const bad = await cli(
      'sweep',
      '--dataset',
      id,
      '--budgets',
      '3e5',
      '--early-stopping-metric',
      'loss',
      '--store',
      data,
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--early-stopping-metric must be one of val-loss, val-accuracy');
  }, 120_000);
});

describe('isoflop cv', () => {
  it('trains k stratified folds as runs sharing a cvId and prints mean ± std', async () => {
    const { data, id } = await tableStore();
    const result = await cli(
      'cv',
      '--dataset',
      id,
      '--k',
      '3',
      '--steps',
      '40',
      '--width',
      '8',
      '--store',
      data,
      '--json',
    );
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.out);
    expect(summary.k).toBe(3);
    expect(summary.completed).toBe(3);
    expect(summary.folds.map((f: { index: number }) => f.index)).toEqual([0, 1, 2]);
    const losses = summary.folds.map((f: { bestValLoss: number }) => f.bestValLoss);
    const mean = losses.reduce((a: number, b: number) => a + b, 0) / 3;
    expect(summary.bestValLoss.mean).toBeCloseTo(mean, 10);
    // Different folds validate on different rows: their losses are not all the same.
    expect(new Set(losses).size).toBe(3);
    expect(summary.valAccuracy.mean).toBeGreaterThan(0.5);
    expect(summary.band.length).toBeGreaterThan(0);
    const runs = readdirSync(join(data, 'runs')).filter((name) => name.startsWith(summary.cvId));
    expect(runs).toHaveLength(3);
    const record = JSON.parse(readFileSync(join(data, 'runs', runs[0] as string, 'run.json'), 'utf8'));
    expect(record.cvId).toBe(summary.cvId);
    expect(record.config.fold).toEqual({ k: 3, index: 0, seed: 1 });
  }, 120_000);

  it('refuses k above the rows, a one-class target and a text corpus before anything trains', async () => {
    const small = await tableStore('two', 40);
    const tooMany = await cli('cv', '--dataset', small.id, '--k', '200', '--store', small.data);
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toContain('k = 200 folds cannot split');
    // The contract's limit, not one of the CLI's own: k is at most 255 (the CLI once took a million).
    const overCap = await cli('cv', '--dataset', small.id, '--k', '1000000', '--store', small.data);
    expect(overCap.code).toBe(2);
    expect(overCap.err).toMatch(/^isoflop: --k: Too big: expected number to be <=255/);
    const single = await tableStore('one', 40);
    const oneClass = await cli('cv', '--dataset', single.id, '--store', single.data);
    expect(oneClass.code).toBe(2);
    expect(oneClass.err).toContain('single class');
    const text = await cli('cv', '--dataset', 'demo-language', '--store', small.data);
    expect(text.code).toBe(2);
    expect(text.err).toContain('text corpus');
    expect(readdirSync(join(small.data, 'runs'))).toEqual([]);
  }, 120_000);
});
