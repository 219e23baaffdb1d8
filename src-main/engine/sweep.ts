import { randomBytes } from 'node:crypto';
import type { DatasetManifest, PlannedRun, RunRecord, SweepRecord } from '../../src-shared/contract';
import { gptFlops, gptParamCount } from '../../src-shared/engine/models/gpt';
import { mlpFlops, mlpParamCount } from '../../src-shared/engine/models/mlp';
import type { DatasetStore } from '../store/datasets/store';
import type { RunStore } from '../store/runs';
import type { SweepStore } from '../store/sweeps';
import { type ExecuteOptions, executeRun } from './run-executor';

/** A sweep on disk: its plan, one queued run per planned run, then the queue run in order. */

export interface Stores {
  runs: RunStore;
  sweeps: SweepStore;
  datasets: DatasetStore;
}

function evalStepsFor(steps: number): number[] {
  // About ten evaluations, spaced evenly in log steps so the curve's start is seen too.
  const out = new Set<number>();
  for (let i = 1; i <= 10; i++) out.add(Math.max(1, Math.round(steps ** (i / 10))));
  return [...out].sort((a, b) => a - b);
}

export async function createSweep(
  stores: Stores,
  dataset: DatasetManifest,
  plan: PlannedRun[],
  options: { batchSize: number; seed: number; name?: string },
): Promise<SweepRecord> {
  const id = `sweep-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
  const runIds: string[] = [];
  const now = new Date().toISOString();
  for (const [index, planned] of plan.entries()) {
    const model = planned.model;
    const counts = model.family === 'mlp' ? mlpParamCount(model) : gptParamCount(model);
    const flops = model.family === 'mlp' ? mlpFlops(model) : gptFlops(model);
    const run: RunRecord = {
      formatVersion: 1,
      id: `${id}-r${String(index + 1).padStart(2, '0')}`,
      sweepId: id,
      name: planned.label,
      createdAt: now,
      updatedAt: now,
      status: 'queued',
      config: {
        datasetId: dataset.id,
        model,
        batchSize: options.batchSize,
        budgetFlops: planned.budgetFlops,
        plannedTokens: planned.tokens,
        plannedSteps: planned.steps,
        peakLearningRate: model.family === 'mlp' ? 1e-2 : 3e-3,
        warmupSteps: Math.max(1, Math.round(planned.steps * 0.05)),
        weightDecay: 0,
        seed: options.seed + index,
        evalSteps: evalStepsFor(planned.steps),
      },
      params: counts,
      flopsPerToken: flops,
      environment: null,
      result: null,
      error: null,
      lastCheckpointStep: null,
    };
    await stores.runs.create(run);
    runIds.push(run.id);
  }
  return stores.sweeps.save({
    formatVersion: 1,
    id,
    name: options.name ?? `${dataset.name}: ${plan.length} runs`,
    createdAt: now,
    datasetId: dataset.id,
    budgets: [...new Set(plan.map((p) => p.budgetFlops))],
    batchSize: options.batchSize,
    plan,
    runIds,
  });
}

/** Runs every queued or interrupted run of a sweep, smallest budget first, one at a time. */
export async function runSweep(
  stores: Stores,
  sweepId: string,
  options: ExecuteOptions & {
    onRunStart?(run: RunRecord, index: number, total: number): void;
    shouldStop?(): boolean;
  } = {},
): Promise<RunRecord[]> {
  const sweep = await stores.sweeps.get(sweepId);
  const runs = await Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
  const order = runs
    .map((run, index) => ({ run, index }))
    .sort((a, b) => a.run.config.budgetFlops - b.run.config.budgetFlops || a.index - b.index);
  for (const [position, { run }] of order.entries()) {
    if (options.shouldStop?.()) break;
    if (run.status !== 'queued' && run.status !== 'interrupted' && run.status !== 'running') continue;
    options.onRunStart?.(run, position, order.length);
    // A run found 'running' was left by a process that died: resume it from its checkpoint.
    if (run.status === 'running') await stores.runs.update(run.id, { status: 'interrupted' });
    await executeRun(stores, run.id, options);
  }
  return Promise.all(sweep.runIds.map((id) => stores.runs.get(id)));
}
