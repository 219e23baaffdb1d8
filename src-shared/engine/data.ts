import { Random } from '../random';
import type { Batch } from './models/model';
import { tf } from './tf';

/** Batches from a dataset's binaries, reproducibly: a sampler's state goes into every checkpoint. */

export interface Sampler {
  next(): Batch;
  state(): SamplerState;
  restore(state: SamplerState): void;
}

export type SamplerState =
  | { kind: 'tokens'; random: [number, number, number, number, number | null] }
  | { kind: 'rows'; epoch: number; position: number };

/** Random windows of `contextLength + 1` tokens: x is the window, y the same shifted by one. */
export class TokenSampler implements Sampler {
  private readonly random: Random;

  constructor(
    private readonly tokens: Uint8Array | Uint16Array,
    private readonly contextLength: number,
    private readonly batchSize: number,
    seed: number,
  ) {
    if (tokens.length < contextLength + 2) {
      throw new RangeError(`a split of ${tokens.length} tokens is too short for windows of ${contextLength}`);
    }
    this.random = new Random(seed);
  }

  next(): Batch {
    const starts = Array.from({ length: this.batchSize }, () =>
      this.random.int(this.tokens.length - this.contextLength - 1),
    );
    return windows(this.tokens, starts, this.contextLength);
  }

  state(): SamplerState {
    return { kind: 'tokens', random: this.random.getState() };
  }

  restore(state: SamplerState): void {
    if (state.kind !== 'tokens') throw new Error('checkpoint is for a table sampler');
    this.random.setState(state.random);
  }
}

export function windows(tokens: Uint8Array | Uint16Array, starts: number[], contextLength: number): Batch {
  const x = new Int32Array(starts.length * contextLength);
  const y = new Int32Array(starts.length * contextLength);
  starts.forEach((start, b) => {
    for (let t = 0; t < contextLength; t++) {
      x[b * contextLength + t] = tokens[start + t] as number;
      y[b * contextLength + t] = tokens[start + t + 1] as number;
    }
  });
  return {
    x: tf.tensor2d(x, [starts.length, contextLength], 'int32'),
    y: tf.tensor2d(y, [starts.length, contextLength], 'int32'),
  };
}

/** Evenly spaced windows over a split, for evaluation. */
export function evalTokenBatches(
  tokens: Uint8Array | Uint16Array,
  contextLength: number,
  batchSize: number,
  batches: number,
): number[][] {
  const count = batchSize * batches;
  const span = tokens.length - contextLength - 1;
  const starts = Array.from({ length: count }, (_, i) => Math.floor((i * span) / count));
  return Array.from({ length: batches }, (_, b) => starts.slice(b * batchSize, (b + 1) * batchSize));
}

/** Rows of a table, in a fresh seeded order each epoch. Each row is `features` inputs then the target. */
export class RowSampler implements Sampler {
  private order: Uint32Array;
  private epoch = 0;
  private position = 0;

  constructor(
    private readonly rows: Float32Array,
    private readonly features: number,
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly classification: boolean,
  ) {
    this.order = this.shuffled(0);
  }

  get rowCount(): number {
    return this.rows.length / (this.features + 1);
  }

  private shuffled(epoch: number): Uint32Array {
    const random = new Random(this.seed + epoch * 7919);
    const order = new Uint32Array(this.rowCount).map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(i + 1);
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    return order;
  }

  next(): Batch {
    const picked: number[] = [];
    while (picked.length < this.batchSize) {
      if (this.position === this.order.length) {
        this.epoch++;
        this.position = 0;
        this.order = this.shuffled(this.epoch);
      }
      picked.push(this.order[this.position++] as number);
    }
    return rowBatch(this.rows, this.features, picked, this.classification);
  }

  state(): SamplerState {
    return { kind: 'rows', epoch: this.epoch, position: this.position };
  }

  restore(state: SamplerState): void {
    if (state.kind !== 'rows') throw new Error('checkpoint is for a token sampler');
    this.epoch = state.epoch;
    this.position = state.position;
    this.order = this.shuffled(this.epoch);
  }
}

export function rowBatch(rows: Float32Array, features: number, picked: number[], classification: boolean): Batch {
  const width = features + 1;
  const x = new Float32Array(picked.length * features);
  const y = classification ? new Int32Array(picked.length) : new Float32Array(picked.length);
  picked.forEach((row, b) => {
    x.set(rows.subarray(row * width, row * width + features), b * features);
    y[b] = rows[row * width + features] as number;
  });
  return {
    x: tf.tensor2d(x, [picked.length, features]),
    y: tf.tensor1d(y, classification ? 'int32' : 'float32'),
  };
}
