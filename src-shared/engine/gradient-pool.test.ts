import { MessageChannel } from 'node:worker_threads';
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

  it("moves each part's arrays to its helper and the weights to the last one, the others getting copies", async () => {
    const received: Array<{ weights: Float32Array[]; rows: Int32Array }> = [];
    const threads = (): HelperThread => {
      // A real MessageChannel: a buffer posted twice after being moved, or moved twice, would throw.
      const { port1, port2 } = new MessageChannel();
      let onAnswer: (answer: GradientAnswer) => void = () => undefined;
      port2.on('message', (request: { weights: Float32Array[]; part: { x: { values: Int32Array } } }) => {
        received.push({ weights: request.weights, rows: request.part.x.values });
        onAnswer({ kind: 'gradients', loss: 1, grads: [] });
      });
      return {
        post: (message, transfer) => port1.postMessage(message, transfer ?? []),
        listen: (answer) => {
          onAnswer = answer;
          answer({ kind: 'ready' });
        },
        terminate: () => {
          port1.close();
          return undefined;
        },
      };
    };
    const pool = await startHelperPool(spec, 1, 32, 3, threads, 1_000);
    if (!pool) throw new Error('the pool did not start');
    const weights = [Float32Array.from([1, 2, 3]), Float32Array.from([4])];
    const parts = [1, 2, 3].map((k) => {
      const x = { values: Int32Array.from([k, k]), shape: [2], dtype: 'int32' as const };
      return { x, y: { ...x, values: Int32Array.from([k]) } };
    });
    await pool.compute(weights, parts, [1, 2, 3]);
    await pool.close();
    expect(received.map((r) => [...r.rows])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    for (const r of received) expect(r.weights.map((w) => [...w])).toEqual([[1, 2, 3], [4]]);
    // Moved: the parts' arrays and, after the last post, the weights are detached here.
    expect(parts.every((part) => part.x.values.byteLength === 0 && part.y.values.byteLength === 0)).toBe(true);
    expect(weights.every((w) => w.byteLength === 0)).toBe(true);
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
