import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../src-shared/random';
import { createApp } from '../api';
import { tempFolder } from '../testing';

/**
 * Crash loop: the real binary killed with SIGKILL at 20 seeded random moments, during an import, a sweep
 * (training and checkpointing), a study and report writing. After each kill the store opens, every record
 * parses, completed runs are unchanged; at the end the interrupted sweep and study resume to completion.
 */

const bin = fileURLToPath(new URL('../../bin/isoflop.js', import.meta.url));
const folder = tempFolder();
const store = join(folder.dir, 'data');
const random = new Random(18_2026);
let datasetId = '';
let kills = 0;
let runsLost = 0;
const log: string[] = [];

function cli(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args, '--store', store], { encoding: 'utf8', timeout: 300_000 });
}

/**
 * Starts the CLI and kills it with SIGKILL after `ms`; resolves with whether it was still running then. One
 * that ended first must have ended well (exit 0), or the loop would be killing nothing but failures.
 */
function killAfter(ms: number, ...args: string[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args, '--store', store], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    let exit: number | null | undefined;
    child.on('exit', (code) => {
      exit = code;
    });
    setTimeout(() => {
      if (exit !== undefined) {
        if (exit === 0) resolve(false);
        else reject(new Error(`isoflop ${args.join(' ')} failed before the kill: ${stderr}`));
        return;
      }
      child.on('close', () => resolve(true));
      child.kill('SIGKILL');
    }, ms);
  });
}

interface RunState {
  status: string;
  metrics: string;
}

/** Every record of the store, parsed through the app itself: what a user would see on opening it. */
async function openStore(): Promise<Map<string, RunState>> {
  const app = createApp(store);
  await app.leftoversRemoved;
  const datasets = await app.datasets.list();
  for (const dataset of datasets) expect((await app.datasets.get(dataset.id)).id).toBe(dataset.id);
  const runs = await app.runs.list();
  expect(runs.filter((entry) => !entry.ok)).toEqual([]);
  for (const sweep of await app.sweeps.list())
    expect((await app.sweeps.get(sweep.id)).runIds.length).toBeGreaterThan(0);
  for (const study of await app.studies.list()) expect((await app.studies.get(study.id)).id).toBe(study.id);
  for (const name of readdirSync(join(store, 'reports')).filter((file) => /\.(pdf|json)$/.test(file))) {
    const bytes = readFileSync(join(store, 'reports', name));
    if (name.endsWith('.json')) expect(() => JSON.parse(bytes.toString('utf8'))).not.toThrow();
    else
      expect(bytes.subarray(0, 5).toString('latin1') + bytes.subarray(-8).toString('latin1')).toMatch(
        /^%PDF-[\s\S]*%%EOF\s*$/,
      );
  }
  // Each report's source record is whole JSON too (written atomically, or not at all).
  const sources = join(store, 'reports', 'sources');
  for (const name of existsSync(sources) ? readdirSync(sources).filter((file) => file.endsWith('.json')) : [])
    expect(() => JSON.parse(readFileSync(join(sources, name), 'utf8'))).not.toThrow();
  const states = new Map<string, RunState>();
  for (const entry of runs) {
    if (!entry.ok) continue;
    const metricsFile = join(store, 'runs', entry.run.id, 'metrics.jsonl');
    states.set(entry.run.id, {
      status: entry.run.status,
      metrics: existsSync(metricsFile) ? readFileSync(metricsFile, 'utf8') : '',
    });
  }
  return states;
}

/** Completed runs must come through a kill byte for byte. */
function countLost(before: Map<string, RunState>, after: Map<string, RunState>): number {
  let lost = 0;
  for (const [id, state] of before) {
    if (state.status !== 'completed') continue;
    const now = after.get(id);
    if (now?.status !== 'completed' || now.metrics !== state.metrics) lost++;
  }
  return lost;
}

async function killAndCheck(what: string, window: [number, number], ...args: string[]): Promise<void> {
  const before = await openStore();
  const at = Math.round(window[0] + random.next() * (window[1] - window[0]));
  const running = await killAfter(at, ...args);
  const after = await openStore();
  const lost = countLost(before, after);
  kills++;
  runsLost += lost;
  log.push(`${what}: killed at ${at} ms${running ? '' : ' (it had ended)'}, ${lost} runs lost`);
}

beforeAll(() => {
  const rows = Array.from(
    { length: 2_000 },
    (_, i) => `${Math.sin(i)},${Math.cos(i * 0.3)},${Math.sin(i) * Math.cos(i * 0.3)}`,
  );
  writeFileSync(join(folder.dir, 'table.csv'), `a,b,y\n${rows.join('\n')}\n`);
  const imported = cli('datasets', 'import', join(folder.dir, 'table.csv'), '--json');
  expect(imported.status, imported.stderr).toBe(0);
  datasetId = JSON.parse(imported.stdout).id;
  const big = Array.from({ length: 3_000_000 }, (_, i) => `${i % 97},${(i * 7) % 13},${i % 5}`);
  writeFileSync(join(folder.dir, 'big.csv'), `a,b,y\n${big.join('\n')}\n`);
  writeFileSync(
    join(folder.dir, 'space.json'),
    JSON.stringify({ learningRate: { type: 'log', min: 1e-3, max: 3e-2 } }),
  );
}, 120_000);
afterAll(() => folder.cleanup());

describe('crash loop', () => {
  it('survives 20 kills -9 during imports, a sweep, a study and reports, losing no run, and resumes', async () => {
    // Imports: nothing half-made may appear.
    for (let i = 0; i < 4; i++)
      await killAndCheck('import', [150, 1_200], 'datasets', 'import', join(folder.dir, 'big.csv'));

    // A sweep, killed again and again as it trains and checkpoints, resumed each time.
    const sweepArgs = ['--budgets', '1e7,3e7', '--sizes', '2', '--backend', 'cpu'];
    const first = await killAfter(1_500, 'sweep', '--dataset', datasetId, ...sweepArgs);
    kills++;
    log.push(`sweep: killed at 1500 ms${first ? '' : ' (it had ended)'}`);
    const app = createApp(store);
    const sweepId = (await app.sweeps.list())[0]?.id;
    expect(sweepId).toBeDefined();
    for (let i = 0; i < 7; i++)
      await killAndCheck('sweep --resume', [400, 1_500], 'sweep', '--resume', sweepId as string, '--backend', 'cpu');

    // A study, the same way.
    const space = join(folder.dir, 'space.json');
    const tune = ['tune', '--dataset', datasetId, '--space', space, '--sampler', 'random', '--trials', '3'];
    await killAndCheck('tune', [1_000, 1_500], ...tune, '--steps', '3000', '--pruner', 'none');
    const studyId = (await app.studies.list())[0]?.id;
    expect(studyId).toBeDefined();
    for (let i = 0; i < 3; i++)
      await killAndCheck('tune --resume', [400, 1_500], 'tune', '--resume', studyId as string);

    // Reports: a file appears whole or not at all.
    for (let i = 0; i < 4; i++) {
      const out = join(folder.dir, `report-${i}.pdf`);
      await killAndCheck(
        'report',
        [300, 1_000],
        'report',
        '--sweep',
        sweepId as string,
        '--format',
        i % 2 ? 'json' : 'pdf',
        '--out',
        out,
      );
      if (existsSync(out)) expect(readFileSync(out).subarray(0, 4).toString('latin1')).toMatch(/%PDF|\{/);
    }

    // Everything interrupted resumes to the end.
    const before = await openStore();
    const sweepDone = cli('sweep', '--resume', sweepId as string, '--backend', 'cpu');
    expect(sweepDone.status, sweepDone.stderr).toBe(0);
    const studyDone = cli('tune', '--resume', studyId as string);
    expect(studyDone.status, studyDone.stderr).toBe(0);
    const after = await openStore();
    runsLost += countLost(before, after);
    const sweep = await app.sweeps.get(sweepId as string);
    const statuses = await Promise.all(sweep.runIds.map(async (id) => (await app.runs.get(id)).status));
    const study = await app.studies.get(studyId as string);
    console.log(
      [
        `Crash loop: ${kills} kills -9 survived, ${runsLost} runs lost`,
        ...log.map((line) => `  ${line}`),
        `  then: sweep ${statuses.filter((s) => s === 'completed').length}/${statuses.length} runs completed, study ${study.trials.filter((t) => t.state !== 'running').length}/${study.trialsPlanned} trials finished`,
      ].join('\n'),
    );
    expect(kills).toBe(20);
    expect(runsLost).toBe(0);
    expect(statuses.every((status) => status === 'completed')).toBe(true);
    expect(study.trials.filter((t) => t.state === 'running')).toEqual([]);
    expect(study.trials).toHaveLength(study.trialsPlanned);
  }, 600_000);
});
