import { beforeAll, describe, expect, it } from 'vitest';
import { useNodeBackend } from '../../src-main/training/node-backends';
import { peakBufferBytes } from './peak-memory';
import { tf } from './tf';

beforeAll(async () => {
  await useNodeBackend('cpu');
});

describe('peakBufferBytes', () => {
  it('counts a buffer once however many tensors view it, and lets go of freed ones', async () => {
    const before = tf.memory().numBytes;
    const work = () => {
      const base = tf.ones([1000]); // 4,000 bytes
      const views = [1, 2, 3, 4, 5].map(() => tf.reshape(base, [10, 100])); // same buffer
      const copy = tf.square(base); // a second buffer
      tf.dispose([copy, ...views, base]);
      const after = tf.ones([500]); // 2,000 bytes, after the others were freed
      after.dispose();
    };
    expect(await peakBufferBytes(work)).toBe(before + 8000);
    // tf.profile counts each view's bytes again.
    const profiled = await tf.profile(work);
    expect(profiled.peakBytes).toBeGreaterThanOrEqual(before + 8000 + 5 * 4000);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('puts the engine back as it was, also when the work throws', async () => {
    await expect(
      peakBufferBytes(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await peakBufferBytes(() => tf.dispose(tf.zeros([10])))).toBe(tf.memory().numBytes + 40);
  });
});
