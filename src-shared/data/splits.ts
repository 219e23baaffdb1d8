import { Random } from '../random';

export const splitNames = ['train', 'val', 'test'] as const;
export type SplitName = (typeof splitNames)[number];
export type SplitFractions = Record<SplitName, number>;

export const textSplitDefaults: SplitFractions = { train: 0.9, val: 0.05, test: 0.05 };
export const tableSplitDefaults: SplitFractions = { train: 0.8, val: 0.1, test: 0.1 };

/**
 * Assigns items (text blocks, table rows) to splits with a fixed seed. Items are dealt in windows
 * (20 for a 5% split): each window holds exactly its share of each split, shuffled, so proportions are
 * exact from the first window on and every split gets items as soon as one window is full.
 */
export class SplitAssigner {
  /** the window's splits as indexes into `splitNames` */
  private readonly window: Uint8Array;
  private readonly random: Random;
  private readonly order: Uint8Array;
  private position: number;

  constructor(fractions: SplitFractions, seed: number) {
    const smallest = Math.min(...splitNames.map((name) => fractions[name]).filter((f) => f > 0));
    const size = Math.max(1, Math.round(1 / smallest));
    const window: number[] = [];
    for (const [index, name] of splitNames.entries()) {
      const count = Math.round(fractions[name] * size);
      for (let i = 0; i < count; i++) window.push(index);
    }
    while (window.length < size) window.push(0);
    this.window = Uint8Array.from(window);
    this.order = new Uint8Array(this.window.length);
    this.position = this.order.length;
    this.random = new Random(seed);
  }

  next(): SplitName {
    return splitNames[this.nextIndex()] as SplitName;
  }

  /** The next item's split as its index in `splitNames` (0 train, 1 val, 2 test): for loops over many rows. */
  nextIndex(): number {
    const order = this.order;
    if (this.position === order.length) {
      // Dealt afresh in the same array, shuffled as `Random.shuffle` shuffles (the same draws).
      order.set(this.window);
      for (let i = order.length - 1; i > 0; i--) {
        const j = this.random.int(i + 1);
        const item = order[i] as number;
        order[i] = order[j] as number;
        order[j] = item;
      }
      this.position = 0;
    }
    return order[this.position++] as number;
  }

  /** How many items a complete window holds: fewer items than this cannot fill every split. */
  get windowSize(): number {
    return this.window.length;
  }
}
