import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engineBench } from '../../../src-shared/engine/bench';
import { useNodeBackend } from '../../training/node-backends';
import { benchVsTorch, torchUnavailable } from './torch';

beforeAll(async () => {
  await useNodeBackend('wasm');
});

const saved = process.env.ISOFLOP_PYTHON;
afterEach(() => {
  if (saved === undefined) delete process.env.ISOFLOP_PYTHON;
  else process.env.ISOFLOP_PYTHON = saved;
});

const missing = torchUnavailable();
if (missing) console.log(`bench --vs-torch against PyTorch is skipped here: ${missing}`);

describe('isoflop bench --vs-torch', () => {
  it('says why PyTorch is missing and measures the engine alone', async () => {
    process.env.ISOFLOP_PYTHON = '/nonexistent/python3';
    const lines: string[] = [];
    const result = await benchVsTorch('gpt-small', 1, 1, (line) => lines.push(line));
    expect(result.torch).toBeNull();
    expect(result.ratio).toBeNull();
    expect(result.torchMissing).toContain('/nonexistent/python3 could not be started');
    expect(lines[0]).toMatch(/^PyTorch is not available: .*Measuring the engine alone\.$/);
    expect(result.engine.tokensPerSec).toBeGreaterThan(0);
    expect(result.engine.backend).toBe('wasm');
  }, 120_000);

  it.skipIf(missing !== null)(
    'trains the same model in PyTorch (the same parameter count) and gives the ratio of the two',
    async () => {
      const result = await benchVsTorch('gpt-small', 1, 1, () => undefined);
      const torch = result.torch as NonNullable<typeof result.torch>;
      expect(torch.params).toBe(result.engine.params);
      expect(torch.tokensPerSec).toBeGreaterThan(0);
      expect(result.ratio).toBeCloseTo(result.engine.tokensPerSec / torch.tokensPerSec, 9);
      // gpt-medium is the larger model both sides build alike: about 4x the parameters.
      const medium = engineBench('gpt-medium');
      expect(medium.params / result.engine.params).toBeGreaterThan(3.5);
      expect(medium.params / result.engine.params).toBeLessThan(4.5);
      medium.dispose();
    },
    180_000,
  );
});
