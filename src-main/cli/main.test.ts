import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { queuedRun, RunStore } from '../store/runs';
import { tempFolder } from '../testing';
import { helpText, runCli } from './main';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    rendererDir: '/nonexistent',
    env: {},
    untilStopped: () => Promise.resolve(),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('isoflop CLI', () => {
  it('lists every subcommand in --help', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    for (const name of ['serve', 'datasets', 'sweep', 'runs', 'fit', 'report', 'bench', 'info', 'tune', 'cv']) {
      expect(out).toMatch(new RegExp(`^  ${name} `, 'm'));
    }
    expect(out).toBe(helpText());
  });

  it('prints the package version', async () => {
    const { code, out } = await cli('--version');
    expect(code).toBe(0);
    expect(out).toBe(__ISOFLOP_VERSION__);
  });

  it('exits 2 with one line for an unknown command', async () => {
    const { code, err, out } = await cli('frobnicate');
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.split('\n')).toHaveLength(1);
    expect(err).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 with one line for an unknown flag, globally or on a command', async () => {
    for (const argv of [['--frobnicate'], ['serve', '--frobnicate'], ['info', '-z']]) {
      const { code, err } = await cli(...argv);
      expect(code).toBe(2);
      expect(err.split('\n')).toHaveLength(1);
      expect(err).toMatch(/unknown option/);
    }
  });

  it('exits 2 when a flag lacks its value or has a bad one', async () => {
    const missing = await cli('serve', '--port');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("'--port'");
    const bad = await cli('serve', '--port', 'eighty');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('"eighty"');
  });

  it('info --json reports the store given by --store, through the same API', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const { code, out } = await cli('info', '--json', '--store', store.dir);
    expect(code).toBe(0);
    const info = JSON.parse(out);
    expect(info.dataDir).toBe(store.dir);
    expect(info.transport).toBe('cli');
    expect(existsSync(join(store.dir, 'runs'))).toBe(true);
  });

  it('reports an unusable store as one line and exit 1', async () => {
    const { code, err } = await cli('info', '--store', '/dev/null/store');
    expect(code).toBe(1);
    expect(err).toContain('/dev/null/store');
    expect(err.split('\n')).toHaveLength(1);
  });
});

describe('isoflop datasets', () => {
  it('imports a file, shows it, renames and deletes it, with exit codes a script can rely on', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const csvPath = join(store.dir, 'houses.csv');
    const rows = Array.from(
      { length: 50 },
      (_, i) => `${i},${(i * 37) % 11},${i % 2 ? 'brick' : 'wood'},${100 + i * 3.5}`,
    );
    writeFileSync(csvPath, `rooms,age,material,price\n${rows.join('\n')}\n`);
    const data = join(store.dir, 'data');
    const imported = await cli('datasets', 'import', csvPath, '--target', 'price', '--store', data, '--json');
    expect(imported.code).toBe(0);
    const manifest = JSON.parse(imported.out);
    expect(manifest.task).toBe('regression');
    expect(imported.err).toMatch(/writing rows/);
    const shown = await cli('datasets', 'show', manifest.id, '--store', data);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('material');
    expect((await cli('datasets', 'rename', manifest.id, 'House', 'prices', '--store', data)).out).toContain(
      '"House prices"',
    );
    const unconfirmed = await cli('datasets', 'delete', manifest.id, '--store', data);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.err).toContain('--yes');
    expect((await cli('datasets', 'delete', manifest.id, '--yes', '--store', data)).code).toBe(0);
    expect((await cli('datasets', 'show', manifest.id, '--store', data)).code).toBe(1);
  });

  it('fails with one line naming the file, and exit 1, for bad input', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const path = join(store.dir, 'ragged.csv');
    writeFileSync(path, 'a,b,y\n1,2\n');
    const result = await cli('datasets', 'import', path, '--store', join(store.dir, 'data'));
    expect(result.code).toBe(1);
    expect(result.err.trim().split('\n').at(-1)).toMatch(/^isoflop: Line 2 of ragged\.csv has 2 fields/);
    const usage = await cli('datasets', 'import', path, '--tokenizer', 'words');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('--tokenizer must be one of byte, bpe');
    expect((await cli('datasets', 'explode')).code).toBe(2);
  });
});

describe('isoflop report', () => {
  it('reports on runs chosen by hand with --runs, and wants a sweep or runs, not both', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const csvPath = join(store.dir, 'table.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 5},${i * 0.5}`);
    writeFileSync(csvPath, `a,b,y\n${rows.join('\n')}\n`);
    const data = join(store.dir, 'data');
    const dataset = JSON.parse((await cli('datasets', 'import', csvPath, '--store', data, '--json')).out);
    const runs = new RunStore(data);
    const config = {
      datasetId: dataset.id,
      model: {
        family: 'mlp' as const,
        inputs: 2,
        width: 8,
        depth: 1,
        activation: 'tanh' as const,
        dropout: 0,
        task: 'regression' as const,
        outputs: 1,
      },
      batchSize: 8,
      budgetFlops: 1e6,
      plannedTokens: 1000,
      plannedSteps: 100,
      peakLearningRate: 1e-3,
      warmupSteps: 0,
      weightDecay: 0,
      l1: 0,
      l2: 0,
      earlyStopping: null,
      seed: 1,
      evalSteps: [100],
    };
    for (const id of ['run-one', 'run-two']) await runs.create(queuedRun(id, id, null, config));
    const out = join(store.dir, 'two.json');
    const written = await cli('report', '--runs', 'run-one,run-two', '--format', 'json', '--out', out, '--store', data);
    expect(written.code, written.err).toBe(0);
    expect(written.out).toContain(`Wrote ${out}`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.sweep).toMatchObject({ scope: 'runs', runIds: ['run-one', 'run-two'] });
    expect(report.notes[0]).toContain('2 of 2 runs had not finished');
    for (const args of [
      ['--out', out],
      ['--sweep', 'sweep-x', '--runs', 'run-one', '--out', out],
    ]) {
      const refused = await cli('report', ...args, '--store', data);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain('report needs one of --sweep ID, --study ID or --runs ID,ID');
    }
  });
});

describe('isoflop sweep --plan-only', () => {
  it('prints the plan as a table with time estimates once runs have shown a speed, and as JSON', async () => {
    const store = tempFolder();
    cleanups.push(store.cleanup);
    const csvPath = join(store.dir, 'table.csv');
    const rows = Array.from(
      { length: 400 },
      (_, i) => `${Math.sin(i)},${Math.cos(i * 3)},${Math.sin(i) * Math.cos(i * 3)}`,
    );
    writeFileSync(csvPath, `a,b,y\n${rows.join('\n')}\n`);
    const data = join(store.dir, 'data');
    const dataset = JSON.parse((await cli('datasets', 'import', csvPath, '--store', data, '--json')).out);
    const plan = (...extra: string[]) =>
      cli(
        'sweep',
        '--dataset',
        dataset.id,
        '--budgets',
        '1e6,3e6',
        '--sizes',
        '3',
        '--plan-only',
        '--store',
        data,
        ...extra,
      );
    const first = await plan();
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain('est. time');
    expect(first.out).toContain('No time estimate: no run of this model family has completed here on wasm yet.');
    const json = JSON.parse((await plan('--json')).out);
    expect(json.datasetId).toBe(dataset.id);
    expect(json.plan).toHaveLength(6);
    // Train those runs, and the next plan knows how fast this machine is.
    expect(
      (await cli('sweep', '--dataset', dataset.id, '--budgets', '1e6,3e6', '--sizes', '3', '--store', data)).code,
    ).toBe(0);
    const second = await plan();
    expect(second.out).toMatch(/About \d+(\.\d+)?s in all on wasm, at the speed \d completed run\(s\)/);
  }, 120_000);
});

describe('isoflop fit', () => {
  function synthetic(): string {
    const law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const lines = ['name,params,flops,loss'];
    for (const flops of [1e18, 1e19, 1e20, 1e21]) {
      for (const params of [2e7, 6e7, 2e8, 6e8, 2e9]) {
        const tokens = flops / (6 * params);
        const loss = law.E + law.A / params ** law.alpha + law.B / tokens ** law.beta;
        lines.push(`run,${params},${flops},${loss}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  it('prints exactly one JSON object in the documented shape', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
    const path = join(folder.dir, 'runs.csv');
    writeFileSync(path, synthetic());
    const result = await cli('fit', path, '--json', '--bootstrap', '30', '--budgets', '1e22,1e23');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out);
    expect(json.n).toBe(20);
    expect(Object.keys(json.parametric)).toEqual(['E', 'A', 'B', 'alpha', 'beta', 'a', 'b', 'ci95']);
    expect(json.parametric.alpha).toBeCloseTo(0.34, 2);
    expect(json.parametric.ci95.alpha[0]).toBeLessThanOrEqual(json.parametric.alpha);
    expect(json.isoflop.budgets).toHaveLength(4);
    expect(json.isoflop.a).toBeCloseTo(0.28 / 0.62, 1);
    expect(json.allocation.map((a: { flops: number }) => a.flops)).toEqual([1e22, 1e23]);
    expect(Object.keys(json.allocation[0])).toEqual(
      expect.arrayContaining(['flops', 'params', 'tokens', 'tokensPerParam', 'loss']),
    );
  });

  it('exits 2 naming the line and column of a bad CSV', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
    const cases: Array<[string, RegExp]> = [
      ['params,loss\n1,2\n', /no tokens or flops column/],
      [
        'params,tokens,loss\n1e6,1e8,3\n1e6,1e8,-1\n',
        /line 3 of .*bad\.csv, column "loss": "-1" is not a positive number/,
      ],
      ['params,tokens,loss\n1e6,abc,3\n', /line 2 of .*column "tokens": "abc"/],
      ['params,tokens,loss\n1e6,1e8,3\n2e6,1e8,2.9\n', /has 2 runs; a fit needs at least 5/],
    ];
    for (const [content, message] of cases) {
      const path = join(folder.dir, 'bad.csv');
      writeFileSync(path, content);
      const result = await cli('fit', path);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(message);
      expect(result.err.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('isoflop tune', () => {
  it('runs a seeded study, prunes by the median rule, and reports the best trial', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
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
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
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

/** A 3-column CSV (two features and a label) imported into a fresh store. */
async function tableStore(classes: 'two' | 'one' = 'two', rows = 600) {
  const folder = tempFolder();
  cleanups.push(folder.cleanup);
  const csv = join(folder.dir, 'table.csv');
  const lines = Array.from({ length: rows }, (_, i) => {
    const [a, b] = [Math.sin(i), Math.cos(i * 0.7)];
    return `${a.toFixed(4)},${b.toFixed(4)},${classes === 'one' || a * b > 0 ? 'up' : 'down'}`;
  });
  writeFileSync(csv, `a,b,label\n${lines.join('\n')}\n`);
  const data = join(folder.dir, 'data');
  const imported = JSON.parse((await cli('datasets', 'import', csv, '--store', data, '--json')).out);
  return { folder, data, id: imported.id as string };
}

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

describe('the isoflop binary', () => {
  const bin = fileURLToPath(new URL('../../bin/isoflop.js', import.meta.url));

  it('exits 2 for an unknown command, with one line on stderr and no stack trace', () => {
    const result = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(
      result.stderr
        .trim()
        .split('\n')
        .filter((line) => !line.includes('building')),
    ).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  }, 120_000);

  it('--help lists the subcommands', () => {
    const result = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('serve');
    expect(result.stdout).toContain('bench');
  });
});
