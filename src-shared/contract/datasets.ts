import { z } from 'zod';

/** A seed a request may name: a 31-bit integer (what Random and every CLI --seed take). */
export const Seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/** Lowercase letters, digits and dashes: safe as a folder name on every platform, and in a URL. */
export const DatasetId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a dataset id is 1-64 lowercase letters, digits and dashes');
export type DatasetId = z.infer<typeof DatasetId>;

export const SplitName = z.enum(['train', 'val', 'test']);
export const SplitFractions = z.object({ train: z.number(), val: z.number(), test: z.number() });

const Source = z.object({
  /** File or folder name as the user chose it (no directories). */
  name: z.string(),
  bytes: z.number().int().nonnegative(),
  /** sha256 of the source bytes (of every file, in name order, for a folder). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  files: z.number().int().positive(),
});

const common = {
  formatVersion: z.literal(1),
  id: DatasetId,
  name: z.string().min(1).max(200),
  createdAt: z.string(),
  builtIn: z.boolean(),
  description: z.string(),
  source: Source,
  seed: z.number().int(),
  splitFractions: SplitFractions,
};

export const TextSplit = z.object({
  file: z.string(),
  bytes: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  /** Distinct token ids in this split: the sweep planner warns about repetition from it. */
  uniqueTokens: z.number().int().nonnegative(),
});

export const TextManifest = z.object({
  ...common,
  kind: z.literal('text'),
  tokenizer: z.object({
    type: z.enum(['byte', 'bpe']),
    vocabSize: z.number().int().min(2).max(65536),
    /** tokenizer.json beside the manifest, for BPE */
    file: z.string().nullable(),
    /** bytes of training-split text the BPE merges were learnt from */
    trainedOnBytes: z.number().int().nonnegative().nullable(),
  }),
  /** Token ids are stored little-endian in this type. */
  dtype: z.enum(['uint8', 'uint16']),
  splits: z.object({ train: TextSplit, val: TextSplit, test: TextSplit }),
  stats: z.object({
    bytes: z.number().int().nonnegative(),
    tokens: z.number().int().nonnegative(),
    uniqueTokens: z.number().int().nonnegative(),
    blockBytes: z.number().int().positive(),
    crlfNormalized: z.number().int().nonnegative(),
    bomRemoved: z.boolean(),
    sample: z.string(),
  }),
  /** Bits per byte of the process that generated a built-in corpus (an upper bound on its entropy rate). */
  entropyBitsPerByte: z.number().nullable(),
});
export type TextManifest = z.infer<typeof TextManifest>;

export const TableColumn = z.object({
  name: z.string(),
  type: z.enum(['numeric', 'categorical']),
  missing: z.number().int().nonnegative(),
  /** train-split statistics used to standardize (numeric) */
  mean: z.number().nullable(),
  std: z.number().nullable(),
  /** one-hot order (categorical) */
  categories: z.array(z.string()).nullable(),
});
export type TableColumn = z.infer<typeof TableColumn>;

export const TaskType = z.enum(['regression', 'classification']);
export type TaskType = z.infer<typeof TaskType>;

export const TableManifest = z.object({
  ...common,
  kind: z.literal('table'),
  task: TaskType,
  taskInferred: TaskType,
  target: z.object({
    name: z.string(),
    classes: z.array(z.string()).nullable(),
    mean: z.number().nullable(),
    std: z.number().nullable(),
  }),
  /** float32 values per row before the target: each row is `features` inputs then 1 target. */
  features: z.number().int().positive(),
  columns: z.array(TableColumn),
  skippedColumns: z.array(z.object({ name: z.string(), reason: z.string() })),
  splits: z.object({
    train: z.object({ file: z.string(), rows: z.number().int().nonnegative() }),
    val: z.object({ file: z.string(), rows: z.number().int().nonnegative() }),
    test: z.object({ file: z.string(), rows: z.number().int().nonnegative() }),
  }),
  stats: z.object({
    rows: z.number().int().nonnegative(),
    columns: z.number().int().nonnegative(),
    missingCells: z.number().int().nonnegative(),
    classBalance: z.record(z.string(), z.number()).nullable(),
  }),
  preview: z.object({ header: z.array(z.string()), rows: z.array(z.array(z.string())) }),
  /** The noise variance of a built-in teacher: the lowest loss any model can reach. */
  irreducibleLoss: z.number().nullable(),
});
export type TableManifest = z.infer<typeof TableManifest>;

export const DatasetManifest = z.discriminatedUnion('kind', [TextManifest, TableManifest]);
export type DatasetManifest = z.infer<typeof DatasetManifest>;

export const ImportSource = z.union([
  z.object({ path: z.string().min(1).max(4096) }).strict(),
  z.object({ uploadId: z.string().regex(/^[a-z0-9]{16,64}$/), fileName: z.string().min(1).max(255) }).strict(),
]);
export type ImportSource = z.infer<typeof ImportSource>;

export const ImportRequest = z
  .object({
    source: ImportSource,
    name: z.string().trim().min(1).max(200).optional(),
    kind: z.enum(['text', 'csv']).optional(),
    target: z.string().min(1).max(200).optional(),
    task: TaskType.optional(),
    tokenizer: z.enum(['byte', 'bpe']).optional(),
    vocabSize: z.number().int().min(257).max(65536).optional(),
    seed: Seed.optional(),
  })
  .strict();
export type ImportRequest = z.infer<typeof ImportRequest>;

export const Job = z.object({
  id: z.string(),
  kind: z.literal('dataset.import'),
  label: z.string(),
  state: z.enum(['running', 'succeeded', 'failed']),
  phase: z.string(),
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative(),
  startedAt: z.string(),
  etaSeconds: z.number().nullable(),
  datasetId: DatasetId.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type Job = z.infer<typeof Job>;
