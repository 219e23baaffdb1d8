import { IsoflopError, type RunRecord } from '../../../src-shared/contract';
import { formatMeanStd } from '../../../src-shared/format';
import { summariseFolds } from '../../../src-shared/science/cross-validation';
import { executeClaimedRun } from '../../engine/run-executor';
import { createCrossValidation } from '../../store/cross-validation';
import { ensureDemos } from '../../store/datasets/demos';
import { DatasetStore } from '../../store/datasets/store';
import { RunStore } from '../../store/runs';
import { type Command, dataDirOf, intOption, numberOption, storeOption, stringOption, UsageError } from '../command';

/** `isoflop cv`: k-fold cross-validation of one network on a table; each fold is a run, the k share a cvId. */
export const cv: Command = {
  summary: 'k-fold cross-validation of a network on a table (stratified for classification); each fold is a run',
  usage:
    'isoflop cv --dataset ID [--k 5] [--width 32] [--depth 2] [--steps 300] [--batch-size 64] [--lr 3e-3] [--dropout P] [--weight-decay X] [--l1 X] [--l2 X] [--seed S] [--store DIR] [--json]',
  options: {
    ...storeOption,
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
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    const datasetId = stringOption(values, 'dataset');
    if (!datasetId) throw new UsageError('cv needs --dataset ID (a table)');
    const dataDir = dataDirOf(values, io);
    const stores = { runs: new RunStore(dataDir), datasets: new DatasetStore(dataDir) };
    if (datasetId.startsWith('demo-')) await ensureDemos(stores.datasets);
    let runs: Awaited<ReturnType<typeof createCrossValidation>>;
    try {
      runs = await createCrossValidation(stores, {
        datasetId,
        k: intOption(values, 'k', 2, 1_000_000) ?? 5,
        width: intOption(values, 'width', 1, 100_000) ?? 32,
        depth: intOption(values, 'depth', 1, 64) ?? 2,
        steps: intOption(values, 'steps', 10, 10_000_000) ?? 300,
        batchSize: intOption(values, 'batch-size', 1, 65_536) ?? 64,
        learningRate: numberOption(values, 'lr', 1e-8, 10) ?? 3e-3,
        dropout: numberOption(values, 'dropout', 0, 0.9) ?? 0,
        weightDecay: numberOption(values, 'weight-decay', 0, 10) ?? 0,
        l1: numberOption(values, 'l1', 0, 10) ?? 0,
        l2: numberOption(values, 'l2', 0, 10) ?? 0,
        seed: intOption(values, 'seed', 0, 2 ** 31 - 1) ?? 1,
      });
    } catch (error) {
      if (error instanceof IsoflopError && error.code === 'BAD_REQUEST') throw new UsageError(error.message);
      throw error;
    }
    for (const run of runs) {
      // Fresh runs of this process: nobody else holds them.
      const done = (await executeClaimedRun(stores, run.id)) as RunRecord;
      io.err(
        `${run.name}: ${done.status}${done.result?.bestValLoss != null ? ` ${done.result.bestValLoss.toFixed(5)}` : ''}`,
      );
    }
    const trained = [];
    for (const run of runs)
      trained.push({ run: await stores.runs.get(run.id), metrics: await stores.runs.metrics(run.id) });
    const summary = summariseFolds(trained);
    const cvId = runs[0]?.cvId;
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
