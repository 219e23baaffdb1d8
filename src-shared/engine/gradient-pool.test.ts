import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../contract/runs';
import { type GradientAnswer, type HelperThread, helpersFor, startHelperPool } from './gradient-pool';
import { gptSmall } from './ladder';

/** gpt-small, the bench's model: 2.2e10 FLOPs a step at batch 32. */
const gpt: ModelSpec = { family: 'gpt', ...gptSmall };
const spec = gpt;

/** A thread that answers as `script` says, and records whether it was ended. */
function scripted(script: (answer: (message: GradientAnswer) => void, fail: (error: Error) => void) => void) {
  const ended: boolean[] = [];
  const start = (): HelperThread => {
    const index = ended.push(false) - 1;
    return {
      post: () => undefined,
      listen: (onAnswer, onFailure) => script(onAnswer, onFailure),
      terminate: () => {
        ended[index] = true;
        return undefined;
      },
    };
  };
  return { start, ended };
}

describe('the helper pool', () => {
  it('gives up on helpers that never answer, ends them, and leaves the run to go on alone', async () => {
    const silent = scripted(() => undefined);
    expect(await startHelperPool(spec, 1, 32, 2, silent.start, 50)).toBeNull();
    expect(silent.ended).toEqual([true, true]);
  });

  it('ends every helper when one fails to start', async () => {
    let k = 0;
    const mixed = scripted((answer) => {
      answer(k++ === 0 ? { kind: 'ready' } : { kind: 'error', message: 'WASM did not start' });
    });
    expect(await startHelperPool(spec, 1, 32, 2, mixed.start, 1_000)).toBeNull();
    expect(mixed.ended).toEqual([true, true]);
  });

  it('a helper that dies mid-step fails that step, so the trainer computes it alone', async () => {
    let die: ((error: Error) => void) | null = null;
    const dying = scripted((answer, fail) => {
      die = fail;
      answer({ kind: 'ready' });
    });
    const pool = await startHelperPool(spec, 1, 32, 1, dying.start, 1_000);
    if (!pool) throw new Error('the pool did not start');
    const part = { x: { values: new Int32Array(0), shape: [0], dtype: 'int32' as const } };
    const step = pool.compute([], [{ ...part, y: part.x }], [1]);
    (die as unknown as (error: Error) => void)(new Error('the helper thread exited'));
    await expect(step).rejects.toThrow('the helper thread exited');
    await pool.close();
    expect(dying.ended).toEqual([true]);
  });

  it('gives a GPT on WASM one helper per thread beyond the first, for steps of 1e9 FLOPs or more', () => {
    expect(helpersFor('wasm', spec, 32, 2)).toBe(1);
    expect(helpersFor('wasm', spec, 32, 8)).toBe(7);
    expect(helpersFor('wasm', spec, 4, 8)).toBe(3); // a row for each thread at most
    expect(helpersFor('webgpu', spec, 32, 8)).toBe(0);
    expect(helpersFor('wasm', spec, 32, 1)).toBe(0);
    expect(helpersFor('wasm', spec, 1, 8)).toBe(0); // one row: nothing to split
    const small: ModelSpec = { ...gpt, dModel: 16, nLayers: 1, nHeads: 1 };
    expect(helpersFor('wasm', small, 32, 8)).toBe(0); // far under 1e9 FLOPs a step
    expect(helpersFor('wasm', { ...gpt, nLayers: Number.NaN }, 32, 8)).toBe(0); // nothing to count by
  });
});
