import { z } from 'zod';
import { DatasetId, Seed } from './datasets';
import { ModelSpec, RunId } from './runs';

/** Hyper-parameter studies as the store keeps them: `<data>/studies/<id>/study.json`, written whole. */

export const StudyId = z
  .string()
  .regex(/^study-[a-z0-9-]{1,60}$/, 'a study id is "study-" then letters, digits, dashes');

/** The parameters a study may search, each one a field of the trials' runs. */
export const studyParameters = [
  'learningRate',
  'batchSize',
  'width',
  'depth',
  'dropout',
  'weightDecay',
  'l1',
  'l2',
] as const;
export const StudyParameter = z.enum(studyParameters);
export type StudyParameter = z.infer<typeof StudyParameter>;

/** The most values one choice may list. */
export const maxChoiceValues = 1_000;

/** Every searchable parameter is a number, so a choice lists numbers (a string would be silently dropped). */
export const Dimension = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['log', 'float', 'int']), min: z.number(), max: z.number() }).strict(),
  z
    .object({
      type: z.literal('choice'),
      values: z.array(z.number(), 'a choice lists numbers').min(1).max(maxChoiceValues),
    })
    .strict(),
]);
export const SearchSpace = z.partialRecord(StudyParameter, Dimension);
export type SearchSpace = z.infer<typeof SearchSpace>;

export const Sampler = z.enum(['grid', 'random', 'tpe']);
export const Pruner = z.enum(['median', 'asha', 'none']);

export const TrialState = z.enum(['running', 'complete', 'pruned', 'failed']);
export type TrialState = z.infer<typeof TrialState>;

export const StudyTrial = z.object({
  /** 1, 2, 3 ... in the order the sampler proposed them */
  number: z.number().int().positive(),
  runId: RunId,
  params: z.record(z.string(), z.union([z.number(), z.string()])),
  state: TrialState,
  /** the objective: the trial's best validation loss (complete trials only) */
  value: z.number().nullable(),
  /** validation loss at each evaluation, as [step, loss]: what the pruner compares */
  intermediate: z.array(z.tuple([z.number().int(), z.number()])),
  /** why a pruned or failed trial ended */
  note: z.string().nullable(),
});
export type StudyTrial = z.infer<typeof StudyTrial>;

export const StudyRequest = z
  .object({
    datasetId: DatasetId,
    space: SearchSpace,
    sampler: Sampler,
    pruner: Pruner,
    trials: z.number().int().min(1).max(10_000),
    /** training steps of every trial */
    steps: z.number().int().min(10).max(1_000_000),
    seed: Seed,
    name: z.string().trim().min(1).max(200).optional(),
    /**
     * A fixed model for every trial (any family, on any dataset): the study then searches training settings
     * only (learningRate, weightDecay, dropout, l1, l2). A sweep's per-size learning-rate search uses it.
     */
    base: z
      .object({ model: ModelSpec, batchSize: z.number().int().min(1).max(65_536) })
      .strict()
      .optional(),
  })
  .strict();
export type StudyRequest = z.infer<typeof StudyRequest>;

export const StudyRecord = z.object({
  formatVersion: z.literal(1),
  id: StudyId,
  name: z.string(),
  createdAt: z.string(),
  datasetId: DatasetId,
  space: SearchSpace,
  sampler: Sampler,
  pruner: Pruner,
  /** trials planned (a grid may hold fewer points) */
  trialsPlanned: z.number().int().positive(),
  steps: z.number().int().positive(),
  seed: z.number().int(),
  /** what is minimised */
  objective: z.literal('best validation loss'),
  /** the fixed model of every trial, when the study searches training settings only */
  base: z.object({ model: ModelSpec, batchSize: z.number().int().positive() }).nullable().default(null),
  trials: z.array(StudyTrial),
});
export type StudyRecord = z.infer<typeof StudyRecord>;
