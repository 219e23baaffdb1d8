import { type DatasetManifest, IsoflopError, type ModelSpec, type RunConfig } from '../../src-shared/contract';

type MlpSpec = Extract<ModelSpec, { family: 'mlp' }>;

import { mlpFlops } from '../../src-shared/engine/models/mlp';

/** The network settings a study's trial or a cross-validation fold trains with on a table. */
export interface TableRunSettings {
  width: number;
  depth: number;
  dropout: number;
  batchSize: number;
  steps: number;
  learningRate: number;
  weightDecay: number;
  l1: number;
  l2: number;
  seed: number;
  evalSteps: number[];
}

/** The MLP a table dataset's runs train: its inputs and outputs from the dataset, its shape from the settings. */
export function tableModel(
  dataset: DatasetManifest,
  settings: Pick<TableRunSettings, 'width' | 'depth' | 'dropout'>,
): MlpSpec {
  if (dataset.kind !== 'table') {
    throw new IsoflopError('BAD_REQUEST', `${dataset.id} is a text corpus; this needs a table (CSV) dataset.`);
  }
  return {
    family: 'mlp',
    inputs: dataset.features,
    width: Math.max(1, Math.round(settings.width)),
    depth: Math.max(1, Math.round(settings.depth)),
    activation: 'tanh',
    dropout: settings.dropout,
    task: dataset.task,
    outputs: dataset.task === 'classification' ? (dataset.target.classes?.length ?? 2) : 1,
  };
}

/** The run config of an MLP on a table dataset: one place for studies and cross-validation. */
export function tableRunConfig(dataset: DatasetManifest, settings: TableRunSettings): RunConfig {
  const model = tableModel(dataset, settings);
  const batchSize = Math.max(1, Math.round(settings.batchSize));
  const { steps } = settings;
  return {
    datasetId: dataset.id,
    model,
    batchSize,
    budgetFlops: mlpFlops(model).perToken * batchSize * steps,
    plannedTokens: batchSize * steps,
    plannedSteps: steps,
    peakLearningRate: settings.learningRate,
    warmupSteps: Math.max(1, Math.round(steps * 0.05)),
    weightDecay: settings.weightDecay,
    l1: settings.l1,
    l2: settings.l2,
    earlyStopping: null,
    seed: settings.seed,
    evalSteps: settings.evalSteps,
    fold: null,
  };
}
