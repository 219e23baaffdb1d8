import { randomBytes } from 'node:crypto';
import { IsoflopError, type RunRecord } from '../../src-shared/contract';
import { checkModelFits } from '../../src-shared/engine/planner';
import type { DatasetStore } from '../store/datasets/store';
import { queuedRun, type RunStore } from '../store/runs';
import { type TableRunSettings, tableModel, tableRunConfig } from './table-runs';

/**
 * k-fold cross-validation of one network on a table: k runs sharing a `cvId`, fold i validating on the
 * i-th fold of the train+val rows (src-shared/data/folds.ts) and training on the others.
 */

export interface CrossValidationRequest extends Omit<TableRunSettings, 'evalSteps'> {
  datasetId: string;
  k: number;
}

export async function createCrossValidation(
  stores: { runs: RunStore; datasets: DatasetStore },
  request: CrossValidationRequest,
): Promise<RunRecord[]> {
  const dataset = await stores.datasets.get(request.datasetId);
  if (dataset.kind !== 'table') {
    throw new IsoflopError(
      'BAD_REQUEST',
      `Cross-validation works on tables; ${dataset.id} is a text corpus. Choose a CSV dataset.`,
    );
  }
  const rows = dataset.splits.train.rows + dataset.splits.val.rows;
  if (!Number.isInteger(request.k) || request.k < 2 || request.k > rows) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `k = ${request.k} folds cannot split ${dataset.name}'s ${rows} training and validation rows: choose k from 2 to ${Math.min(rows, 255)}.`,
    );
  }
  if (request.k > 255) throw new IsoflopError('BAD_REQUEST', `k may be at most 255, not ${request.k}.`);
  if (dataset.task === 'classification' && (dataset.target.classes?.length ?? 0) < 2) {
    throw new IsoflopError(
      'BAD_REQUEST',
      `${dataset.name}'s target "${dataset.target.name}" has a single class: there is nothing to classify.`,
    );
  }
  const cvId = `cv-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
  const evalSteps = Array.from({ length: 10 }, (_, i) => Math.max(1, Math.round(((i + 1) * request.steps) / 10)));
  checkModelFits(tableModel(dataset, request), 'the network (--width, --depth)');
  const runs: RunRecord[] = [];
  for (let index = 0; index < request.k; index++) {
    const config = tableRunConfig(dataset, { ...request, evalSteps });
    const run = queuedRun(
      `${cvId}-f${index + 1}`,
      `fold ${index + 1} of ${request.k}, width ${config.model.family === 'mlp' ? config.model.width : '?'}`,
      null,
      {
        ...config,
        fold: { k: request.k, index, seed: request.seed },
      },
    );
    runs.push({ ...run, cvId });
  }
  // The first fold is written last: it makes the others appear (RunStore.uncommitted), so a crash while
  // creating them leaves nothing listed.
  for (const run of [...runs.slice(1), runs[0] as RunRecord]) await stores.runs.create(run);
  return runs;
}
