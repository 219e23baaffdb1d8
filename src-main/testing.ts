import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricRowInput, RunConfig } from '../src-shared/contract';

/** A fresh folder under the OS temp dir, removed by the returned cleanup. */
export function tempFolder(prefix = 'isoflop-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small MLP regression run's config for tests: `shape` and `steps` are what tests vary. */
export function tinyRunConfig(
  datasetId: string,
  shape: { inputs: number; width: number; depth: number },
  steps: number,
  evalSteps: number[],
): RunConfig {
  return {
    datasetId,
    model: { family: 'mlp', ...shape, activation: 'tanh', dropout: 0, task: 'regression', outputs: 1 },
    batchSize: 8,
    budgetFlops: 1e6,
    plannedTokens: steps * 8,
    plannedSteps: steps,
    peakLearningRate: 3e-3,
    warmupSteps: Math.min(50, Math.max(1, Math.round(steps * 0.05))),
    weightDecay: 0,
    l1: 0,
    l2: 0,
    earlyStopping: null,
    seed: 1,
    evalSteps,
    fold: null,
  };
}

/** One evaluation row as the trainer reports it. */
export function metricRow(step: number): MetricRowInput {
  return {
    step,
    tokens: step * 8,
    flops: step,
    trainLoss: 1,
    valLoss: null,
    learningRate: 1e-3,
    tokensPerSecond: 1,
    flopsPerSecond: 1,
    wallSeconds: 1,
  };
}
