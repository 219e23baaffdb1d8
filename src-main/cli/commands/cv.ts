import type { RunRecord } from '../../../src-shared/contract';
import { formatMeanStd } from '../../../src-shared/format';
import { ensureDemos } from '../../store/datasets/demos/demos';
import { nodeBackendOrder } from '../../training/node-backends';
import {
  apiOf,
  backendOption,
  backendOptionSpec,
  backendUsage,
  type Command,
  intOption,
  numberOption,
  storeOption,
  stringOption,
  UsageError,
} from '../command';
import { jobsFor, trainWithJobs } from '../jobs';

/** `isoflop cv`: k-fold cross-validation of one network on a table; each fold is a run, the k share a cvId. */
export const cv: Command = {
  summary: 'k-fold cross-validation of a network on a table (stratified for classification); each fold is a run',
  usage: `isoflop cv --dataset ID [--k 5] [--width 32] [--depth 2] [--steps 300] [--batch-size 64] [--lr 3e-3] [--dropout P] [--weight-decay X] [--l1 X] [--l2 X] [--seed S] ${backendUsage} [--jobs N] [--store DIR] [--json]\n  --jobs N: N processes train the folds at once (by default, or ISOFLOP_JOBS=auto: one per core on the CPU, as memory allows; one on a GPU).`,
  options: {
    ...storeOption,
    ...backendOptionSpec,
    dataset: { type: 'string' },
    k: { type: 'string' },
    width: { type: 'string' },
    depth: { type: 'string' },
    steps: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    dropout: { type: 'string' },
    'weight-decay': { type: 'string' },
    l1: { type: 'string' },
    l2: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const datasetId = stringOption(values, 'dataset');
    if (!datasetId) throw new UsageError('cv needs --dataset ID (a table)');
    const api = apiOf(values, io);
    const backend = await backendOption(values);
    if (datasetId.startsWith('demo-')) await ensureDemos(api.app.datasets);
    // The contract sets the limits and defaults (k from 2 to 255, ...); the CLI only reads numbers.
    const number = (name: string) => numberOption(values, name, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    const runs = await api.call(
      'runs.createCrossValidation',
      {
        datasetId,
        k: number('k') ?? 5,
        width: number('width') ?? 32,
        depth: number('depth') ?? 2,
        steps: number('steps') ?? 300,
        batchSize: number('batch-size') ?? 64,
        learningRate: number('lr') ?? 3e-3,
        dropout: number('dropout'),
        weightDecay: number('weight-decay'),
        l1: number('l1'),
        l2: number('l2'),
        seed: number('seed'),
      },
      {
        k: '--k',
        width: '--width',
        depth: '--depth',
        steps: '--steps',
        batchSize: '--batch-size',
        learningRate: '--lr',
        dropout: '--dropout',
        weightDecay: '--weight-decay',
        l1: '--l1',
        l2: '--l2',
        seed: '--seed',
        datasetId: '--dataset',
      },
    );
    const { jobs, why } = jobsFor(
      intOption(values, 'jobs', 1, 64),
      io.env,
      (await nodeBackendOrder(backend))[0] ?? 'wasm',
      runs,
    );
    await trainWithJobs(api.app, runs, {
      jobs,
      why,
      backend,
      io,
      onTrained: (done: RunRecord) =>
        io.err(
          `${done.name}: ${done.status}${done.result?.bestValLoss != null ? ` ${done.result.bestValLoss.toFixed(5)}` : ''}`,
        ),
    });
    const cvId = runs[0]?.cvId as string;
    const { summary } = await api.call('runs.crossValidation', { cvId });
    if (values.json) {
      io.out(JSON.stringify({ cvId, datasetId, ...summary }, null, 2));
      return summary.completed === summary.k ? 0 : 1;
    }
    io.out(
      `${summary.k}-fold cross-validation ${cvId} on ${datasetId}: ${summary.completed} of ${summary.k} folds completed`,
    );
    io.out(`best validation loss ${formatMeanStd(summary.bestValLoss, 5)} (mean ± std over folds)`);
    if (summary.valAccuracy) io.out(`validation accuracy ${formatMeanStd(summary.valAccuracy, 4)}`);
    return summary.completed === summary.k ? 0 : 1;
  },
};
