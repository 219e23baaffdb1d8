import { existsSync } from 'node:fs';
import type { RowSampler, TokenSampler } from '../../src-shared/engine/data';
import type { Model } from '../../src-shared/engine/models/model';
import { defaultTrainerOptions, type GradientHelpers, type Metrics, Trainer } from '../../src-shared/engine/trainer';
import { nodeWebGpu } from './dawn';

/**
 * Headless WebGPU for tests, through Dawn on SwiftShader's Vulkan driver (Debian's chromium package
 * installs it): real WebGPU, computed on the CPU. Points VK_ICD_FILENAMES at it before Dawn loads (a
 * machine whose own VK_ICD_FILENAMES is set keeps it). Resolves whether an adapter appeared, and warns
 * with the reason where none did (the tests that need it then skip).
 */
export async function webGpuForTests(): Promise<Awaited<ReturnType<typeof nodeWebGpu>>['probe']> {
  const swiftShader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!process.env.VK_ICD_FILENAMES && existsSync(swiftShader)) process.env.VK_ICD_FILENAMES = swiftShader;
  const { probe } = await nodeWebGpu();
  if (!probe.available) console.warn(`Headless WebGPU tests skipped: ${probe.detail}`);
  return probe;
}

/**
 * For tests that compare backends: the training loss after each of 6 steps (batch 8, 2 warmup steps) of
 * `model` on whatever backend runs now. The model is disposed afterwards.
 */
export async function sixStepLosses(model: Model, sampler: RowSampler | TokenSampler): Promise<number[]> {
  return stepLosses(model, sampler);
}

/**
 * The training loss after each of `steps` steps (batch `batchSize`, 2 warmup steps) of `model`, with
 * `helpers` sharing each batch where given; `onStep` hears each step after its loss. The model is disposed.
 */
export async function stepLosses(
  model: Model,
  sampler: RowSampler | TokenSampler,
  {
    batchSize = 8,
    steps = 6,
    helpers = null,
    onStep,
  }: { batchSize?: number; steps?: number; helpers?: GradientHelpers | null; onStep?(step: number): void } = {},
): Promise<number[]> {
  const seen: number[] = [];
  const trainer = new Trainer(
    model,
    sampler,
    {
      ...defaultTrainerOptions,
      batchSize,
      plannedSteps: steps,
      warmupSteps: 2,
      evalSteps: Array.from({ length: steps - 1 }, (_, i) => i + 1),
    },
    {
      evaluate: async () => 0,
      onMetrics: (m: Metrics) => {
        seen.push(m.trainLoss);
        onStep?.(m.step);
      },
      ...(helpers ? { helpers } : {}),
    },
  );
  try {
    await trainer.run();
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return seen;
}
