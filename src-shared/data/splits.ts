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
  private readonly window: SplitName[];
  private readonly random: Random;
  private order: SplitName[] = [];
  private position = 0;

  constructor(fractions: SplitFractions, seed: number) {
    const smallest = Math.min(...splitNames.map((name) => fractions[name]).filter((f) => f > 0));
    const size = Math.max(1, Math.round(1 / smallest));
    this.window = [];
    for (const name of splitNames) {
      const count = Math.round(fractions[name] * size);
      for (let i = 0; i < count; i++) this.window.push(name);
    }
    while (this.window.length < size) this.window.push('train');
    this.random = new Random(seed);
  }

  next(): SplitName {
    if (this.position === this.order.length) {
      // Dealt afresh in the same array: this runs once per window of rows or blocks.
      if (this.order.length === 0) this.order = [...this.window];
      else for (let i = 0; i < this.window.length; i++) this.order[i] = this.window[i] as SplitName;
      this.random.shuffle(this.order);
      this.position = 0;
    }
    return this.order[this.position++] as SplitName;
  }

  /** How many items a complete window holds: fewer items than this cannot fill every split. */
  get windowSize(): number {
    return this.window.length;
  }
}
