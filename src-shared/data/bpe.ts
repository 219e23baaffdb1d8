/**
 * Byte-level BPE, trained on the corpus itself. Deterministic: the same text and vocabulary size give
 * the same merges. Ids 0..255 are bytes; id 256 + r is the r-th merge.
 */

// GPT-2's pre-tokenizer: words keep their leading space; digits, punctuation and runs of space apart.
const preTokenPattern = / ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export type Merge = [number, number];

export interface BpeModel {
  vocabSize: number;
  merges: Merge[];
}

const encoder = new TextEncoder();

export function preTokenize(text: string): string[] {
  return text.match(preTokenPattern) ?? [];
}

function pairKey(a: number, b: number): number {
  return a * 65536 + b;
}

/** A max-heap of (count, key) with lazy deletion; ties go to the smaller key, for determinism. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  private above(i: number, j: number): boolean {
    const ci = this.counts[i] as number;
    const cj = this.counts[j] as number;
    return ci > cj || (ci === cj && (this.keys[i] as number) < (this.keys[j] as number));
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j] as number, this.counts[i] as number];
    [this.keys[i], this.keys[j]] = [this.keys[j] as number, this.keys[i] as number];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] | undefined {
    if (this.counts.length === 0) return undefined;
    const top: [number, number] = [this.counts[0] as number, this.keys[0] as number];
    const lastCount = this.counts.pop() as number;
    const lastKey = this.keys.pop() as number;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < this.counts.length && this.above(left, best)) best = left;
        if (right < this.counts.length && this.above(right, best)) best = right;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/** Counts pre-tokens; feed it text in pieces, then train. */
export class BpeTrainer {
  private readonly wordCounts = new Map<string, number>();

  addText(text: string): void {
    for (const word of preTokenize(text)) this.wordCounts.set(word, (this.wordCounts.get(word) ?? 0) + 1);
  }

  train(vocabSize: number): BpeModel {
    if (!Number.isInteger(vocabSize) || vocabSize < 257 || vocabSize > 65536) {
      throw new RangeError(`BPE vocabulary size must be a whole number from 257 to 65536, not ${vocabSize}`);
    }
    // Sorted so that the training order, and so tie-breaking, never depends on Map insertion order.
    const entries = [...this.wordCounts.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const words = entries.map(([word]) => Array.from(encoder.encode(word)));
    const counts = entries.map(([, count]) => count);
    const pairCounts = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const addPairs = (w: number, sign: 1 | -1) => {
      const ids = words[w] as number[];
      const count = (counts[w] as number) * sign;
      for (let i = 0; i + 1 < ids.length; i++) {
        const key = pairKey(ids[i] as number, ids[i + 1] as number);
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
        if (sign > 0) {
          let set = pairWords.get(key);
          if (!set) {
            set = new Set();
            pairWords.set(key, set);
          }
          set.add(w);
        }
      }
    };
    for (let w = 0; w < words.length; w++) addPairs(w, 1);
    const heap = new PairHeap();
    for (const [key, count] of pairCounts) heap.push(count, key);

    const merges: Merge[] = [];
    while (256 + merges.length < vocabSize) {
      const top = heap.pop();
      if (!top) break;
      const [count, key] = top;
      const current = pairCounts.get(key) ?? 0;
      if (current !== count) {
        if (current > 0 && current < count) heap.push(current, key);
        continue;
      }
      if (count < 2) break;
      const a = Math.floor(key / 65536);
      const b = key % 65536;
      const merged = 256 + merges.length;
      merges.push([a, b]);
      const touched = new Map<number, number>();
      for (const w of pairWords.get(key) ?? []) {
        addPairs(w, -1);
        const ids = words[w] as number[];
        const next: number[] = [];
        for (let i = 0; i < ids.length; i++) {
          if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
            next.push(merged);
            i++;
          } else next.push(ids[i] as number);
        }
        words[w] = next;
        addPairs(w, 1);
        for (let i = 0; i + 1 < next.length; i++) {
          const k = pairKey(next[i] as number, next[i + 1] as number);
          touched.set(k, pairCounts.get(k) ?? 0);
        }
      }
      pairWords.delete(key);
      pairCounts.delete(key);
      for (const [k, c] of touched) if (c > 0) heap.push(c, k);
    }
    return { vocabSize: 256 + merges.length, merges };
  }
}

/** Encodes and decodes with a trained model. */
export class BpeTokenizer {
  readonly vocabSize: number;
  private readonly ranks = new Map<number, number>();
  private readonly pieces: Uint8Array[] = [];
  private readonly cache = new Map<string, number[]>();

  constructor(model: BpeModel) {
    this.vocabSize = model.vocabSize;
    for (let i = 0; i < 256; i++) this.pieces.push(Uint8Array.of(i));
    model.merges.forEach(([a, b], rank) => {
      this.ranks.set(pairKey(a, b), rank);
      const left = this.pieces[a];
      const right = this.pieces[b];
      if (!left || !right) throw new Error(`BPE merge ${rank} refers to an unknown token`);
      const piece = new Uint8Array(left.length + right.length);
      piece.set(left);
      piece.set(right, left.length);
      this.pieces.push(piece);
    });
  }

  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    const ids = Array.from(encoder.encode(word));
    for (;;) {
      let bestRank = Number.POSITIVE_INFINITY;
      let bestAt = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const rank = this.ranks.get(pairKey(ids[i] as number, ids[i + 1] as number));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestAt = i;
        }
      }
      if (bestAt < 0) break;
      ids.splice(bestAt, 2, 256 + bestRank);
    }
    if (this.cache.size < 200_000) this.cache.set(word, ids);
    return ids;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const word of preTokenize(text)) for (const id of this.encodeWord(word)) out.push(id);
    return out;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const piece = this.pieces[ids[i] as number];
      if (!piece) throw new RangeError(`token id ${ids[i]} is outside this vocabulary`);
      parts.push(piece);
      length += piece.length;
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return bytes;
  }

  decode(ids: ArrayLike<number>): string {
    return new TextDecoder().decode(this.decodeBytes(ids));
  }
}
