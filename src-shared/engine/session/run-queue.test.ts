import { describe, expect, it } from 'vitest';
import { queuedRun } from '../../../src-main/store/runs';
import { tinyRunConfig } from '../../../src-main/testing';
import type { RunRecord } from '../../contract/runs';
import { byBudget, type QueueState, RunQueue } from './run-queue';

const run = (id: string, budgetFlops = 1e6): RunRecord =>
  queuedRun(id, id, 'sweep', { ...tinyRunConfig('d', { inputs: 2, width: 4, depth: 1 }, 10, [10]), budgetFlops });

/** A trainOne whose runs end when the test says so. */
function gatedTrainer() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const trainOne = (next: RunRecord) =>
    new Promise<void>((resolve) => {
      started.push(next.id);
      gates.set(next.id, resolve);
    });
  const finish = async (id: string) => {
    await until(() => gates.has(id));
    gates.get(id)?.();
    gates.delete(id);
  };
  return { started, trainOne, finish };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  if (!check()) throw new Error('timed out');
}

describe('run queue', () => {
  it('trains one run at a time in order, takes runs added while it trains, and reports its state', async () => {
    const { started, trainOne, finish } = gatedTrainer();
    const seen: QueueState[] = [];
    const queue = new RunQueue(trainOne, (state) => seen.push(structuredClone(state)));
    const done = queue.add([run('a'), run('b')]);
    expect(queue.busy).toBe(true);
    await until(() => started.length === 1);
    expect(queue.state.current?.id).toBe('a');
    expect(queue.state.waiting.map((r) => r.id)).toEqual(['b']);
    void queue.add([run('c')]);
    expect(queue.state.total).toBe(3);
    await finish('a');
    await finish('b');
    await finish('c');
    await done;
    expect(started).toEqual(['a', 'b', 'c']);
    expect(queue.busy).toBe(false);
    expect(queue.state).toMatchObject({ current: null, waiting: [], done: 3, total: 3 });
    expect(seen.some((state) => state.current?.id === 'b' && state.done === 1)).toBe(true);
  });

  it('removes a waiting run, and not the one training', async () => {
    const { started, trainOne, finish } = gatedTrainer();
    const queue = new RunQueue(trainOne);
    const done = queue.add([run('a'), run('b'), run('c')]);
    await until(() => started.length === 1);
    expect(queue.remove('a')).toBe(false);
    expect(queue.remove('b')).toBe(true);
    expect(queue.state.total).toBe(2);
    await finish('a');
    await finish('c');
    await done;
    expect(started).toEqual(['a', 'c']);
  });

  it('a stop lets the run in training end and starts no other; the next add starts afresh', async () => {
    const { started, trainOne, finish } = gatedTrainer();
    const queue = new RunQueue(trainOne);
    const done = queue.add([run('a'), run('b')]);
    await until(() => started.length === 1);
    queue.stop();
    expect(queue.state.stopping).toBe(true);
    await finish('a');
    await done;
    expect(started).toEqual(['a']);
    expect(queue.state.waiting).toEqual([]);
    const again = queue.add([run('b')]);
    expect(queue.state).toMatchObject({ stopping: false, total: 1, done: 0 });
    await finish('b');
    await again;
    expect(started).toEqual(['a', 'b']);
  });

  it('a failure ends the queue with that error and leaves it idle', async () => {
    const queue = new RunQueue(async (next) => {
      if (next.id === 'b') throw new Error('the worker failed');
    });
    await expect(queue.add([run('a'), run('b'), run('c')])).rejects.toThrow('the worker failed');
    expect(queue.busy).toBe(false);
    expect(queue.state).toMatchObject({ current: null, waiting: [], done: 1 });
  });

  it('trains as many runs at once as it has lanes, each lane taking the next run when its own ends', async () => {
    const { started, trainOne, finish } = gatedTrainer();
    const queue = new RunQueue(
      trainOne,
      () => {},
      () => 2,
    );
    const done = queue.add([run('a'), run('b'), run('c'), run('d')]);
    await until(() => started.length === 2);
    expect(queue.state.training.map((r) => r.id)).toEqual(['a', 'b']);
    expect(queue.state.current?.id).toBe('a');
    expect(queue.state.waiting.map((r) => r.id)).toEqual(['c', 'd']);
    // b ends first: its lane takes c while a trains on.
    await finish('b');
    await until(() => started.length === 3);
    expect(queue.state.training.map((r) => r.id)).toEqual(['a', 'c']);
    expect(queue.state.done).toBe(1);
    // A stop: the runs in training end, d never starts.
    queue.stop();
    await finish('a');
    await finish('c');
    await done;
    expect(started).toEqual(['a', 'b', 'c']);
    expect(queue.state).toMatchObject({ current: null, training: [], waiting: [], done: 3 });
  });

  it('a failure in one lane lets the other finish its run, starts no other, and ends with the error', async () => {
    const { started, trainOne, finish } = gatedTrainer();
    const queue = new RunQueue(
      (next) => (next.id === 'b' ? Promise.reject(new Error('the worker failed')) : trainOne(next)),
      () => {},
      () => 2,
    );
    const done = queue.add([run('a'), run('b'), run('c')]);
    await until(() => started.includes('a'));
    await finish('a');
    await expect(done).rejects.toThrow('the worker failed');
    expect(started).toEqual(['a']);
    expect(queue.state).toMatchObject({ training: [], waiting: [], done: 1 });
  });

  it('orders a sweep smallest budget first, keeping the plan order within a budget', () => {
    const order = byBudget([run('x', 3e6), run('y', 1e6), run('z', 3e6), run('w', 1e6)]);
    expect(order.map((r) => r.id)).toEqual(['y', 'w', 'x', 'z']);
  });
});
