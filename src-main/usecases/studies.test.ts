import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StudyRequest } from '../../src-shared/contract';
import { gptForParams } from '../../src-shared/engine/ladder';
import { prunedReason } from '../../src-shared/engine/session/run-status';
import { ensureDataDir } from '../store/data-dir';
import { ensureDemos } from '../store/datasets/demos/demos';
import { DatasetStore } from '../store/datasets/store';
import { RunStore } from '../store/runs';
import { StudyStore } from '../store/studies';
import { tempFolder } from '../testing';
import { executeRun } from '../training/run-executor';
import { bestTrial, createStudy, finishTrial, nextTrial, reportTrial, type StudyStores } from './studies';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function storesWithTable(classes = 2): Promise<{ stores: StudyStores; datasetId: string; dir: string }> {
  const folder = tempFolder();
  cleanups.push(folder.cleanup);
  const dataDir = ensureDataDir(join(folder.dir, 'data'));
  const stores = { runs: new RunStore(dataDir), datasets: new DatasetStore(dataDir), studies: new StudyStore(dataDir) };
  const csv = join(folder.dir, 'table.csv');
  const rows = Array.from({ length: 400 }, (_, i) => {
    const a = Math.sin(i);
    const b = Math.cos(i * 0.7);
    return `${a.toFixed(4)},${b.toFixed(4)},${classes === 1 ? 'yes' : a + b > 0 ? 'yes' : 'no'}`;
  });
  writeFileSync(csv, `a,b,label\n${rows.join('\n')}\n`);
  const manifest = await stores.datasets.importFrom({ source: { path: csv }, path: csv, displayName: 'table.csv' });
  return { stores, datasetId: manifest.id, dir: folder.dir };
}

const request = (datasetId: string, change: Partial<StudyRequest> = {}): StudyRequest => ({
  datasetId,
  space: { learningRate: { type: 'log', min: 1e-3, max: 3e-2 }, width: { type: 'int', min: 4, max: 16 } },
  sampler: 'random',
  pruner: 'median',
  trials: 4,
  steps: 30,
  seed: 7,
  ...change,
});

describe('studies', () => {
  it('a seeded study proposes the same trials again, each a queued run of the study', async () => {
    const { stores, datasetId } = await storesWithTable();
    const proposals = [];
    for (let copy = 0; copy < 2; copy++) {
      const study = await createStudy(stores, request(datasetId));
      const runs = [await nextTrial(stores, study.id)];
      // An unfinished trial is handed out again (the app closed mid-trial) rather than a new one.
      expect((await nextTrial(stores, study.id))?.id).toBe(runs[0]?.id);
      const saved = await stores.studies.get(study.id);
      expect(saved.trials).toHaveLength(1);
      expect(runs[0]?.studyId).toBe(study.id);
      expect(runs[0]?.status).toBe('queued');
      proposals.push(saved.trials[0]?.params);
    }
    expect(proposals[0]).toEqual(proposals[1]);
    const lr = proposals[0]?.learningRate as number;
    expect(lr).toBeGreaterThanOrEqual(1e-3);
    expect(lr).toBeLessThanOrEqual(3e-2);
  });

  it('trains its trials, prunes one the median rule rejects, and names the best', async () => {
    const { stores, datasetId } = await storesWithTable();
    const study = await createStudy(stores, request(datasetId, { trials: 5 }));
    for (;;) {
      const run = await nextTrial(stores, study.id);
      if (!run) break;
      // Every evaluation goes to the pruner, as the study loop sends it; a prune stops the run as cancelled.
      await executeRun(stores, run.id, {
        backend: 'cpu',
        prune: async (m) =>
          m.valLoss !== null && (await reportTrial(stores, study.id, run.id, m.step, m.valLoss)).prune,
      });
      await finishTrial(stores, study.id, run.id);
    }
    const done = await stores.studies.get(study.id);
    expect(done.trials).toHaveLength(5);
    expect(done.trials.every((t) => t.state !== 'running')).toBe(true);
    for (const trial of done.trials) {
      const run = await stores.runs.get(trial.runId);
      if (trial.state === 'complete') {
        expect(trial.value).toBe(run.result?.bestValLoss);
        expect(run.status).toBe('completed');
      }
      if (trial.state === 'pruned') {
        expect(run.status).toBe('cancelled');
        expect(run.result?.reason).toBe(prunedReason);
        expect(trial.note).toMatch(/pruned by the median rule at step \d+/);
      }
      expect(trial.intermediate.length).toBeGreaterThan(0);
    }
    const best = bestTrial(done);
    const values = done.trials.flatMap((t) => (t.state === 'complete' ? [t.value as number] : []));
    expect(best?.value).toBe(Math.min(...values));
  }, 120_000);

  it('hands each of many concurrent callers its own trial, claimed, and loses none of their reports', async () => {
    const { stores, datasetId } = await storesWithTable();
    const study = await createStudy(stores, request(datasetId, { trials: 8, sampler: 'tpe' }));
    // Six callers at once, as six processes of `tune --jobs 6` would ask: study.json is read, changed and
    // written under the study's lock, so none overwrites another's trial.
    const runs = await Promise.all(Array.from({ length: 6 }, () => nextTrial(stores, study.id, { claim: true })));
    const ids = runs.map((run) => run?.id);
    expect(new Set(ids).size).toBe(6);
    for (const run of runs) expect(await stores.runs.lockHolder(run?.id as string)).toBe('this process');
    let saved = await stores.studies.get(study.id);
    expect(saved.trials.map((t) => t.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    // A trial held by a claim is not handed out again; the next caller gets a new one, then none is left.
    const seventh = await nextTrial(stores, study.id, { claim: true });
    const eighth = await nextTrial(stores, study.id, { claim: true });
    expect(await nextTrial(stores, study.id, { claim: true })).toBeNull();
    expect(new Set([...ids, seventh?.id, eighth?.id]).size).toBe(8);
    // Every caller's report lands, reported all at once.
    await Promise.all(runs.map((run, i) => reportTrial(stores, study.id, run?.id as string, 3, 0.5 + i / 100)));
    saved = await stores.studies.get(study.id);
    expect(saved.trials.filter((t) => t.intermediate.length === 1)).toHaveLength(6);
    // Once released, an unfinished trial goes to whoever asks (its process died, say).
    await stores.runs.unlock(seventh?.id as string);
    expect((await nextTrial(stores, study.id, { claim: true }))?.id).toBe(seventh?.id);
    expect(readdirSync(join(stores.studies.root, study.id))).toEqual(['study.json']);
  });

  it('a pruned trial is recorded as pruned when its value is worse than the median of completed ones', async () => {
    const { stores, datasetId } = await storesWithTable();
    const study = await createStudy(stores, request(datasetId, { trials: 5 }));
    // Three trials complete with known curves (their runs' results stand in for trained ones).
    for (const loss of [0.3, 0.4, 0.5]) {
      const run = await nextTrial(stores, study.id);
      if (!run) throw new Error('no trial');
      await reportTrial(stores, study.id, run.id, 3, loss);
      await stores.runs.update(run.id, { status: 'running' });
      await stores.runs.update(run.id, {
        status: 'completed',
        result: {
          step: 30,
          tokens: 1,
          flops: 1,
          wallSeconds: 1,
          trainLoss: loss,
          valLoss: loss,
          bestValLoss: loss,
          divergedAt: null,
          reason: 'planned steps',
        },
      });
      await finishTrial(stores, study.id, run.id);
    }
    const fourth = await nextTrial(stores, study.id);
    if (!fourth) throw new Error('no trial');
    expect((await reportTrial(stores, study.id, fourth.id, 3, 0.35)).prune).toBe(false);
    expect((await reportTrial(stores, study.id, fourth.id, 3, 0.45)).prune).toBe(true);
    const after = await finishTrial(stores, study.id, fourth.id);
    expect(after.trials[3]?.state).toBe('pruned');
    expect((await stores.runs.get(fourth.id)).status).toBe('cancelled');
  });

  it('a grid study has as many trials as grid points at most', async () => {
    const { stores, datasetId } = await storesWithTable();
    const study = await createStudy(
      stores,
      request(datasetId, { sampler: 'grid', trials: 100, space: { width: { type: 'choice', values: [4, 8] } } }),
    );
    expect(study.trialsPlanned).toBe(2);
  });

  it('refuses what cannot train before anything is written: empty range, bad rate, one class, text', async () => {
    const { stores, datasetId } = await storesWithTable();
    const cases: Array<[Partial<StudyRequest>, RegExp]> = [
      [{ space: { width: { type: 'int', min: 8, max: 8 } } }, /"width" has an empty range/],
      [{ space: { learningRate: { type: 'float', min: -1, max: 1 } } }, /"learningRate" must be positive/],
      [
        { space: { batchSize: { type: 'choice', values: [0, 32] } } },
        /field "space.batchSize": its values must lie from 1/,
      ],
      [{ datasetId: 'demo-language' }, /There is no dataset|text corpus/],
    ];
    for (const [change, message] of cases) {
      await expect(createStudy(stores, request(datasetId, change))).rejects.toThrow(message);
    }
    const single = await storesWithTable(1);
    await expect(createStudy(single.stores, request(single.datasetId))).rejects.toThrow(/single class/);
    expect(await stores.studies.list()).toEqual([]);
    expect((await stores.runs.list()).length).toBe(0);
  });
});

describe('a study of a fixed model (a sweep size’s learning-rate search)', () => {
  it('trains the given transformer on a text corpus at each trial’s rate, and refuses shape parameters', async () => {
    const folder = tempFolder();
    cleanups.push(folder.cleanup);
    const dataDir = ensureDataDir(join(folder.dir, 'data'));
    const stores = {
      runs: new RunStore(dataDir),
      datasets: new DatasetStore(dataDir),
      studies: new StudyStore(dataDir),
    };
    await ensureDemos(stores.datasets);
    const model = {
      family: 'gpt' as const,
      ...gptForParams(2e4, {
        vocabSize: 256,
        contextLength: 32,
        positions: 'learned',
        tiedEmbeddings: true,
        dropout: 0,
        embedding: 'onehot',
      }),
    };
    const base = { model, batchSize: 4 };
    // A grid over learning rates of this fixed model; each case below changes one field.
    const fixed = (change: Partial<StudyRequest>): StudyRequest => ({
      datasetId: 'demo-language',
      space: { learningRate: { type: 'choice', values: [1e-3, 3e-3] } },
      sampler: 'grid',
      pruner: 'none',
      trials: 2,
      steps: 12,
      seed: 1,
      base,
      ...change,
    });
    const study = await createStudy(stores, fixed({}));
    expect(study.base).toEqual(base);
    const run = await nextTrial(stores, study.id);
    expect(run?.config.model).toEqual(model);
    expect(run?.config.batchSize).toBe(4);
    expect(run?.config.peakLearningRate).toBe(1e-3);
    expect(run?.config.plannedTokens).toBe(4 * 32 * 12);
    await executeRun(stores, run?.id as string, { backend: 'cpu' });
    const done = await finishTrial(stores, study.id, run?.id as string);
    expect(done.trials[0]?.state).toBe('complete');
    expect(done.trials[0]?.value).toBeGreaterThan(0);

    await expect(createStudy(stores, fixed({ space: { width: { type: 'choice', values: [8, 16] } } }))).rejects.toThrow(
      /fixed model searches training settings only; "width"/,
    );
    await expect(
      createStudy(
        stores,
        fixed({ datasetId: 'demo-teacher', space: { learningRate: { type: 'choice', values: [1e-3] } }, trials: 1 }),
      ),
    ).rejects.toThrow(/transformer trains on a text corpus; demo-teacher is a table/);
  }, 120_000);
});
