import { randomBytes } from 'node:crypto';
import { type DatasetManifest, type PlannedRun, RunRecord, SweepRecord } from '../../src-shared/contract';
import { defaultLearningRate } from '../../src-shared/engine/lr-tuning';
import { queuedRun, type RunStore } from '../store/runs';
import type { SweepStore } from '../store/sweeps';

/** A sweep made from a plan: every run queued, validated whole, and `sweep.json` written last (the commit point). */

function evalStepsFor(steps: number): number[] {
  // About ten evaluations, spaced evenly in log steps so the curve's start is seen too.
  const out = new Set<number>();
  for (let i = 1; i <= 10; i++) out.add(Math.max(1, Math.round(steps ** (i / 10))));
  return [...out].sort((a, b) => a - b);
}

export async function createSweep(
  stores: { runs: RunStore; sweeps: SweepStore },
  dataset: DatasetManifest,
  plan: PlannedRun[],
  options: {
    batchSize: number;
    seed: number;
    name?: string;
    id?: string;
    regularization?: {
      weightDecay?: number;
      l1?: number;
      l2?: number;
      dropout?: number;
      earlyStoppingPatience?: number | undefined;
      earlyStoppingMinDelta?: number | undefined;
      earlyStoppingMetric?: 'valLoss' | 'valAccuracy' | undefined;
    };
  },
): Promise<SweepRecord> {
  // Shards of one plan on several machines agree on its id and share the sweep (see --plan).
  if (options.id && (await stores.sweeps.exists(options.id))) return stores.sweeps.get(options.id);
  const id = options.id ?? `sweep-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
  const now = new Date().toISOString();
  const runs = plan.map((planned, index) => {
    const reg = options.regularization ?? {};
    const model = reg.dropout ? { ...planned.model, dropout: reg.dropout } : planned.model;
    return RunRecord.parse(
      queuedRun(`${id}-r${String(index + 1).padStart(2, '0')}`, planned.label, id, {
        datasetId: dataset.id,
        model,
        batchSize: options.batchSize,
        budgetFlops: planned.budgetFlops,
        plannedTokens: planned.tokens,
        plannedSteps: planned.steps,
        peakLearningRate: planned.learningRate ?? defaultLearningRate(model.family),
        // Warmup scales with the run: 5% of its steps.
        warmupSteps: Math.max(1, Math.round(planned.steps * 0.05)),
        weightDecay: reg.weightDecay ?? 0,
        l1: reg.l1 ?? 0,
        l2: reg.l2 ?? 0,
        earlyStopping: reg.earlyStoppingPatience
          ? {
              patience: reg.earlyStoppingPatience,
              minDelta: reg.earlyStoppingMinDelta ?? 0,
              restoreBest: true,
              metric: reg.earlyStoppingMetric ?? 'valLoss',
            }
          : null,
        seed: options.seed + index,
        evalSteps: evalStepsFor(planned.steps),
      }),
    );
  });
  // Validated whole before anything is written; sweep.json goes last and makes the runs appear (RunStore.list).
  const sweep = SweepRecord.parse({
    formatVersion: 1,
    id,
    name: options.name ?? `${dataset.name}, ${now.slice(0, 16).replace('T', ' ')} UTC`,
    createdAt: now,
    datasetId: dataset.id,
    budgets: [...new Set(plan.map((p) => p.budgetFlops))],
    batchSize: options.batchSize,
    plan,
    runIds: runs.map((run) => run.id),
  });
  for (const run of runs) await stores.runs.create(run, { ifAbsent: true });
  return stores.sweeps.save(sweep);
}
