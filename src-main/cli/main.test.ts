import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src-shared/format';
import { queuedRun, RunStore } from '../store/runs';
import { cli, cliWith, testFolder } from './cli-fixture';
import { helpText } from './main';

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
    const store = testFolder();
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
    const store = testFolder();
    const csvPath = join(store.dir, 'houses.csv');
    const rows = Array.from(
      { length: 50 },
      (_, i) => `${i},${(i * 37) % 11},${i % 2 ? 'brick' : 'wood'},${100 + i * 3.5}`,
    );
    writeFileSync(csvPath, `rooms,age,material,price\n${rows.join('\n')}\n`);
    const data = join(store.dir, 'data');
    // A log gets progress lines from the start when asked (ISOFLOP_PROGRESS=lines); else after 5 s.
    const imported = await cliWith(
      { ISOFLOP_PROGRESS: 'lines' },
      'datasets',
      'import',
      csvPath,
      '--target',
      'price',
      '--store',
      data,
      '--json',
    );
    expect(imported.code).toBe(0);
    const manifest = JSON.parse(imported.out);
    expect(manifest.task).toBe('regression');
    // Every phase counts bytes: the rows written are (features + target) float32s per row.
    const written = formatBytes((manifest.features + 1) * 4 * manifest.stats.rows);
    expect(imported.err).toMatch(new RegExp(`writing rows .* 100%  ${written} / ${written}`));
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
    // A deleted built-in demo comes back from its seed on request, and only what is missing.
    expect((await cli('datasets', 'list', '--store', data)).code).toBe(0);
    expect((await cli('datasets', 'delete', 'demo-teacher', '--yes', '--store', data)).code).toBe(0);
    expect((await cli('datasets', 'list', '--store', data)).out).not.toContain('demo-teacher');
    expect((await cli('datasets', 'restore-demos', '--store', data)).out.trim()).toBe('Restored demo-teacher.');
    expect((await cli('datasets', 'restore-demos', '--store', data)).out).toContain('nothing to restore');
    expect((await cli('datasets', 'list', '--store', data)).out).toContain('demo-teacher');
  }, 60_000);

  it('fails with one line naming the file, and exit 1, for bad input', async () => {
    const store = testFolder();
    const path = join(store.dir, 'ragged.csv');
    writeFileSync(path, 'a,b,y\n1,2\n');
    const result = await cli('datasets', 'import', path, '--store', join(store.dir, 'data'));
    expect(result.code).toBe(1);
    // One line on a log too: no progress lines before it (stderr here is not a terminal).
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(result.err).toMatch(/^isoflop: Line 2 of ragged\.csv has 2 fields/);
    const usage = await cli('datasets', 'import', path, '--tokenizer', 'words');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('--tokenizer must be one of byte, bpe');
    expect((await cli('datasets', 'explode')).code).toBe(2);
  });
});

describe('isoflop report', () => {
  it('reports on runs chosen by hand with --runs, and wants a sweep or runs, not both', async () => {
    const store = testFolder();
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
    const store = testFolder();
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

  it('refuses a budget no run could train in one line, plan or sweep, writing nothing', async () => {
    const store = testFolder();
    const csvPath = join(store.dir, 'table.csv');
    writeFileSync(csvPath, `a,y\n${Array.from({ length: 300 }, (_, i) => `${i % 7},${i % 3}`).join('\n')}\n`);
    const data = join(store.dir, 'data');
    const dataset = JSON.parse((await cli('datasets', 'import', csvPath, '--store', data, '--json')).out);
    // Misuse of --budgets: exit 2, one line, whether the contract refuses it (over 1e27) or the planner does.
    for (const [budgets, message] of [
      ['1e7,1e20', /^isoflop: field "budgets": 1\.0e\+20 FLOPs would train/],
      ['1e7,1e30', /^isoflop: --budgets \(1\): a budget is at most 1e27 FLOPs/],
    ] as const) {
      for (const extra of [['--plan-only'], []]) {
        const result = await cli('sweep', '--dataset', dataset.id, '--budgets', budgets, '--store', data, ...extra);
        expect(result.code).toBe(2);
        expect(result.err.split('\n')).toHaveLength(1);
        expect(result.err).toMatch(message);
      }
    }
    expect(readdirSync(join(data, 'runs'))).toEqual([]);
    expect(readdirSync(join(data, 'sweeps'))).toEqual([]);
    const dash = await cli('sweep', '--dataset', dataset.id, '--budgets', '-1', '--store', data);
    expect(dash.code).toBe(2);
    expect(dash.err).toContain("the value after '--budgets' starts with a dash");
    expect(dash.err).toContain('--budgets=VALUE');
  });
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
    const folder = testFolder();
    const path = join(folder.dir, 'runs.csv');
    writeFileSync(path, synthetic());
    const result = await cli('fit', path, '--json', '--bootstrap', '30', '--budgets', '1e22,1e23');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out);
    expect(json.n).toBe(20);
    expect(Object.keys(json.parametric)).toEqual(
      expect.arrayContaining(['E', 'A', 'B', 'alpha', 'beta', 'a', 'b', 'ci95']),
    );
    expect(json.warnings).toEqual(expect.any(Array));
    expect(json.backtest).toBeNull();
    // The CSV's flops column is its compute: approach 2 groups by it, and every run lists it beside 6·N·D.
    expect(json.isoflop.groupedBy).toBe('flops');
    expect(json.runs[0].flops).toBeCloseTo(1e18, -12);
    expect(json.runs[0].sixND).toBeCloseTo(1e18, -12);
    // 1e22 is 10x the largest run: every budget says how far it extrapolates.
    expect(json.allocation[0].beyondLargestRun).toBeCloseTo(10, 6);
    expect(json.allocation[0].notes[0]).toMatch(/10x beyond your largest run/);
    expect(json.parametric.alpha).toBeCloseTo(0.34, 2);
    expect(json.parametric.ci95.alpha[0]).toBeLessThanOrEqual(json.parametric.alpha);
    expect(json.isoflop.budgets).toHaveLength(4);
    expect(json.isoflop.a).toBeCloseTo(0.28 / 0.62, 1);
    expect(json.allocation.map((a: { flops: number }) => a.flops)).toEqual([1e22, 1e23]);
    expect(Object.keys(json.allocation[0])).toEqual(
      expect.arrayContaining(['flops', 'params', 'tokens', 'tokensPerParam', 'loss']),
    );
  });

  it('says why approach 1 is missing, and prints an interval the runs leave open as unbounded in the approaches too', async () => {
    // Noise-free runs of sizes far too small for their budgets: the largest size wins at every budget, and every
    // bootstrap resample lands on the same law.
    const law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const lines = ['params,flops,loss'];
    for (const flops of [1e18, 3e18, 1e19])
      for (const params of [1e6, 3e6, 1e7]) {
        const tokens = flops / (6 * params);
        lines.push(`${params},${flops},${law.E + law.A / params ** law.alpha + law.B / tokens ** law.beta}`);
      }
    const folder = testFolder();
    const path = join(folder.dir, 'runs.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const result = await cli('fit', path, '--bootstrap', '20');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(
      /^ {2}1 {2}none: one size \(10\.0M parameters\) holds the lowest loss at every compute/m,
    );
    expect(result.out).toMatch(/^ {2}3 {2}a = +[\d.]+ \[unbounded\] +b = +[\d.]+ \[unbounded\] +parametric fit/m);
    expect(result.out).toMatch(/- No approach 1: one size \(10\.0M parameters\)/);
    const json = JSON.parse((await cli('fit', path, '--bootstrap', '20', '--json')).out);
    expect(json.approachOneMissing).toMatch(/^one size .* the lower envelope cannot say how N\* moves/);
    expect(json.approaches.map((row: { approach: number }) => row.approach)).toEqual([2, 3]);
  });

  it('backtests on the largest budget with --holdout-largest, and refuses non-embedding N where the CSV has none', async () => {
    const folder = testFolder();
    const path = join(folder.dir, 'runs.csv');
    writeFileSync(path, synthetic());
    const result = await cli('fit', path, '--json', '--bootstrap', '0', '--holdout-largest');
    expect(result.code, result.err).toBe(0);
    const json = JSON.parse(result.out);
    expect(json.backtest.heldOutBudget).toBeCloseTo(1e21, -15);
    expect(json.backtest.meanAbsLossErrorPct).toBeLessThan(1);
    expect(json.backtest.nStarRatio).toBeGreaterThan(0.5);
    expect(json.backtest.nStarRatio).toBeLessThan(2);
    const text = await cli('fit', path, '--bootstrap', '0', '--holdout-largest');
    expect(text.out).toMatch(/^Backtest \(fitted on 1\.00e\+18, 1\.00e\+19, 1\.00e\+20 FLOPs, held out 1\.00e\+21\)/m);
    const kaplan = await cli('fit', path, '--params', 'non-embedding');
    expect(kaplan.code).toBe(2);
    expect(kaplan.err).toMatch(/carry no non-embedding parameter count.*params_non_embedding column/);
    expect((await cli('fit', path, '--params', 'embedding')).err).toMatch(/--params takes total or non-embedding/);
  });

  it('exits 2 naming the line and column of a bad CSV', async () => {
    const folder = testFolder();
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
