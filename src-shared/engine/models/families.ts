import type { ModelSpec } from '../../contract';
import type { FlopCount, ParamCount } from '../accounting';
import { gptParamCount } from '../accounting';
import { activationPlan } from '../memory';
import { createGpt, gptFlops } from './gpt';
import { createMlp, mlpFlops, mlpParamCount } from './mlp';
import type { Model } from './model';

/**
 * The model families, each in one place: what it trains on, how it is counted, how it is built. Code that
 * needs a family's answer asks `familyOf(spec)` instead of switching on `spec.family` itself.
 */
export interface ModelFamily<Spec extends ModelSpec = ModelSpec> {
  /** what a person calls it */
  label: 'MLP' | 'transformer';
  /** the dataset kind it trains on */
  trainsOn: 'table' | 'text';
  /** one training position: a table row, or a token */
  unit: 'example' | 'token';
  /** the peak learning rate a run gets when nothing was tuned */
  defaultLearningRate: number;
  paramCount(spec: Spec): ParamCount;
  flops(spec: Spec): FlopCount;
  /** positions one batch element holds: 1 row, or the context length */
  positionsPerExample(spec: Spec): number;
  /** the model with its weights; a transformer recomputes activations when `activationPlan` says so for `batchSize` */
  create(spec: Spec, seed: number, batchSize?: number): Model;
}

type SpecOf<F extends ModelSpec['family']> = Extract<ModelSpec, { family: F }>;

const mlp: ModelFamily<SpecOf<'mlp'>> = {
  label: 'MLP',
  trainsOn: 'table',
  unit: 'example',
  defaultLearningRate: 1e-2,
  paramCount: (spec) => mlpParamCount(spec),
  flops: (spec) => mlpFlops(spec),
  positionsPerExample: () => 1,
  create: ({ family: _family, ...config }, seed) => createMlp(config, seed),
};

const gpt: ModelFamily<SpecOf<'gpt'>> = {
  label: 'transformer',
  trainsOn: 'text',
  unit: 'token',
  defaultLearningRate: 3e-3,
  paramCount: (spec) => gptParamCount(spec),
  flops: (spec) => gptFlops(spec),
  positionsPerExample: (spec) => spec.contextLength,
  create: (spec, seed, batchSize) => {
    const { family: _family, ...config } = spec;
    const recompute = batchSize !== undefined && activationPlan(spec, batchSize).recompute;
    return createGpt({ ...config, recompute }, seed);
  },
};

export const modelFamilies = { mlp, gpt } as const;

/** The family of `spec`, typed for any spec: each family's functions are only ever given a spec of their own. */
export function familyOf(spec: ModelSpec): ModelFamily {
  return modelFamilies[spec.family] as unknown as ModelFamily;
}
