import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { mlpFlops } from '../../../src-shared/engine/models/mlp';
import { Random } from '../../../src-shared/random';
import {
  gridPoints,
  type Params,
  type Space,
  sampleRandom,
  sampleTpe,
  type Trial,
  validateSpace,
} from '../../../src-shared/science/search';
import { executeRun } from '../../engine/run-executor';
import { ensureDemos } from '../../store/datasets/demos';
import { DatasetStore } from '../../store/datasets/store';
import { queuedRun, RunStore } from '../../store/runs';
import { type Command, choiceOption, dataDirOf, intOption, storeOption, stringOption, UsageError } from '../command';

/**
 * `isoflop tune`: a study of MLP hyper-parameters on a table dataset. Each trial is a run in the store;
 * the median pruner stops a trial whose validation loss is worse than the median of earlier trials at the
 * same evaluation.
 */

const Dimension = z.union([
  z.object({ type: z.enum(['log', 'float', 'int']), min: z.number(), max: z.number() }).strict(),
  z.object({ type: z.literal('choice'), values: z.array(z.union([z.number(), z.string()])).min(1) }).strict(),
]);
const known = ['learningRate', 'batchSize', 'width', 'depth', 'dropout', 'weightDecay', 'l1', 'l2'] as const;
const SpaceFile = z.partialRecord(z.enum(known), Dimension);

const number = (params: Params, name: string, fallback: number) =>
  typeof params[name] === 'number' ? (params[name] as number) : fallback;

export const tune: Command = {
  summary: 'Search hyper-parameters (grid, random or TPE) with median pruning; each trial is a run',
  usage:
    'isoflop tune --dataset ID --space space.json --sampler grid|random|tpe --trials N [--steps S] [--pruner median|none] [--seed S] [--store DIR] [--json]\n' +
    `  space.json maps ${known.join(', ')} to {"type": "log"|"float"|"int", "min": x, "max": y} or {"type": "choice", "values": [...]}.`,
  options: {
    ...storeOption,
    dataset: { type: 'string' },
    space: { type: 'string' },
    sampler: { type: 'string' },
    trials: { type: 'string' },
    steps: { type: 'string' },
    pruner: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const datasetId = stringOption(values, 'dataset');
    const spacePath = stringOption(values, 'space');
    if (!datasetId || !spacePath) throw new UsageError('tune needs --dataset ID and --space space.json');
    const sampler = choiceOption(values, 'sampler', ['grid', 'random', 'tpe'] as const) ?? 'tpe';
    const pruner = choiceOption(values, 'pruner', ['median', 'none'] as const) ?? 'median';
    const trialCount = intOption(values, 'trials', 1, 10_000) ?? 20;
    const steps = intOption(values, 'steps', 10, 1_000_000) ?? 300;
    const seed = intOption(values, 'seed', 0, 2 ** 31 - 1) ?? 1;
    let space: Space;
    try {
      space = SpaceFile.parse(JSON.parse(await readFile(spacePath, 'utf8'))) as Space;
      validateSpace(space);
    } catch (error) {
      const message = error instanceof z.ZodError ? (error.issues[0]?.message ?? 'invalid') : (error as Error).message;
      throw new UsageError(`${spacePath}: ${message}`);
    }
    const dataDir = dataDirOf(values, io);
    const stores = { runs: new RunStore(dataDir), datasets: new DatasetStore(dataDir) };
    if (datasetId.startsWith('demo-')) await ensureDemos(stores.datasets);
    const dataset = await stores.datasets.get(datasetId);
    if (dataset.kind !== 'table') throw new UsageError(`tune works on tables for now; ${datasetId} is a text corpus`);
    if (dataset.task === 'classification' && (dataset.target.classes?.length ?? 0) < 2) {
      throw new UsageError(`${datasetId} has a single class: there is nothing to classify`);
    }

    const studyId = `study-${randomBytes(3).toString('hex')}`;
    const random = new Random(seed);
    const grid = sampler === 'grid' ? gridPoints(space) : [];
    const trials: Array<Trial & { state: 'complete' | 'pruned' | 'failed'; runId: string }> = [];
    /** validation losses of earlier trials at each evaluation step, for the median rule */
    const history = new Map<number, number[]>();
    const total = sampler === 'grid' ? Math.min(trialCount, grid.length) : trialCount;
    for (let t = 0; t < total; t++) {
      const params =
        sampler === 'grid'
          ? (grid[t] as Params)
          : sampler === 'tpe'
            ? sampleTpe(space, trials, random)
            : sampleRandom(space, random);
      const width = Math.round(number(params, 'width', 32));
      const depth = Math.round(number(params, 'depth', 2));
      const outputs = dataset.task === 'classification' ? (dataset.target.classes?.length ?? 2) : 1;
      const model = {
        family: 'mlp' as const,
        inputs: dataset.features,
        width,
        depth,
        activation: 'tanh' as const,
        dropout: number(params, 'dropout', 0),
        task: dataset.task,
        outputs,
      };
      const batchSize = Math.round(number(params, 'batchSize', 64));
      const flops = mlpFlops(model);
      const _now = new Date().toISOString();
      const evalSteps = Array.from({ length: 10 }, (_, i) => Math.max(1, Math.round(((i + 1) * steps) / 10)));
      const run = queuedRun(`${studyId}-t${String(t + 1).padStart(3, '0')}`, `${studyId} trial ${t + 1}`, null, {
        datasetId,
        model,
        batchSize,
        budgetFlops: flops.perToken * batchSize * steps,
        plannedTokens: batchSize * steps,
        plannedSteps: steps,
        peakLearningRate: number(params, 'learningRate', 3e-3),
        warmupSteps: Math.max(1, Math.round(steps * 0.05)),
        weightDecay: number(params, 'weightDecay', 0),
        l1: number(params, 'l1', 0),
        l2: number(params, 'l2', 0),
        earlyStopping: null,
        seed: seed + t,
        evalSteps,
      });
      await stores.runs.create(run);
      let pruned = false;
      const control: { stop?: () => void } = {};
      const seen: Array<[number, number]> = [];
      const finished = await executeRun(stores, run.id, {
        control,
        onMetrics: (_run, m) => {
          if (m.valLoss === null) return;
          seen.push([m.step, m.valLoss]);
          const earlier = history.get(m.step) ?? [];
          // Median rule: after the first few trials, stop one that is worse than the median here.
          if (pruner === 'median' && earlier.length >= 3 && m.step < steps) {
            const sorted = [...earlier].sort((a, b) => a - b);
            const median = sorted[Math.floor(sorted.length / 2)] as number;
            if (m.valLoss > median) {
              pruned = true;
              control.stop?.();
            }
          }
        },
      });
      for (const [step, loss] of seen) history.set(step, [...(history.get(step) ?? []), loss]);
      const value = finished.result?.bestValLoss ?? Number.POSITIVE_INFINITY;
      const state = finished.status === 'failed' ? 'failed' : pruned ? 'pruned' : 'complete';
      if (pruned) await stores.runs.update(run.id, { status: 'cancelled' });
      trials.push({ params, value: state === 'complete' ? value : Number.POSITIVE_INFINITY, state, runId: run.id });
      io.err(
        `trial ${t + 1}/${total}: ${state}${state === 'complete' ? ` ${value.toFixed(5)}` : ''}  ${JSON.stringify(params)}`,
      );
    }
    const complete = trials.filter((t) => t.state === 'complete');
    const best = complete.reduce<(typeof trials)[number] | null>(
      (b, t) => (b === null || t.value < b.value ? t : b),
      null,
    );
    const result = {
      studyId,
      sampler,
      pruner,
      trials: trials.map((t) => ({ ...t, value: Number.isFinite(t.value) ? t.value : null })),
      best: best ? { params: best.params, value: best.value, runId: best.runId } : null,
    };
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else if (best)
      io.out(
        `Best of ${trials.length} trials (${complete.length} complete): ${best.value.toFixed(5)} with ${JSON.stringify(best.params)} [${best.runId}]`,
      );
    else io.out('No trial completed.');
    return 0;
  },
};
