import seeds from '../../../../assets/demo-datasets.json';
import { Random } from '../../../../src-shared/random';

/**
 * A synthetic language from a seeded probabilistic grammar: a Zipf-distributed lexicon of made-up
 * words, sentences with subject-verb agreement across prepositional phrases and relative clauses,
 * and paragraphs that keep returning to their topic nouns. Short contexts learn the words; longer
 * ones the agreement and the topics, so bigger models keep improving.
 *
 * It also sums the bits of every random choice: bits per byte of the generating process, an upper
 * bound on the language's entropy rate (several derivations can spell the same text).
 */

const spec = seeds['demo-language'];
export const demoLanguageId = 'demo-language';

const onsets = [
  'b',
  'd',
  'f',
  'g',
  'k',
  'l',
  'm',
  'n',
  'p',
  'r',
  's',
  't',
  'v',
  'z',
  'br',
  'dr',
  'gl',
  'pl',
  'st',
  'tr',
  'sh',
  'th',
];
const vowels = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ee'];
const codas = ['', '', '', 'n', 'r', 'l', 'm', 'k', 't'];
const prepositions = ['in', 'on', 'near', 'with', 'under', 'behind', 'beyond', 'across'];
const singularDeterminers = ['the', 'a', 'this', 'that', 'every', 'each'];
const pluralDeterminers = ['the', 'these', 'those', 'some', 'many', 'few', 'all'];

type GrammaticalNumber = 'sg' | 'pl';

class Vocabulary {
  readonly words: string[];
  readonly probabilities: Float64Array;
  private readonly cumulative: Float64Array;

  constructor(words: string[], exponent: number) {
    this.words = words;
    const weights = words.map((_, rank) => 1 / (rank + 1) ** exponent);
    const total = weights.reduce((a, b) => a + b, 0);
    this.probabilities = Float64Array.from(weights, (w) => w / total);
    this.cumulative = new Float64Array(words.length);
    let running = 0;
    this.probabilities.forEach((p, i) => {
      running += p;
      this.cumulative[i] = running;
    });
  }

  draw(random: Random): number {
    const u = random.next() * (this.cumulative[this.cumulative.length - 1] as number);
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.cumulative[mid] as number) < u) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function makeWords(random: Random, count: number, syllables: [number, number], taken: Set<string>): string[] {
  const words: string[] = [];
  while (words.length < count) {
    const n = syllables[0] + random.int(syllables[1] - syllables[0] + 1);
    let word = '';
    for (let s = 0; s < n; s++) {
      word += onsets[random.int(onsets.length)];
      word += vowels[random.int(vowels.length)];
      if (s === n - 1) word += codas[random.int(codas.length)];
    }
    if (taken.has(word)) continue;
    taken.add(word);
    words.push(word);
  }
  return words;
}

function pluralOf(noun: string): string {
  return /(s|sh|th|z)$/.test(noun) ? `${noun}es` : `${noun}s`;
}

export class LanguageGenerator {
  private readonly random: Random;
  private readonly nouns: Vocabulary;
  private readonly verbs: Vocabulary;
  private readonly transitive: boolean[];
  private readonly adjectives: Vocabulary;
  private readonly names: Vocabulary;
  private topic: number[] = [];
  /** Bits spent on every choice so far. */
  bits = 0;

  constructor(seed = spec.seed) {
    this.random = new Random(seed);
    const taken = new Set<string>([
      ...prepositions,
      ...singularDeterminers,
      ...pluralDeterminers,
      'and',
      'that',
      'when',
    ]);
    this.nouns = new Vocabulary(makeWords(this.random, spec.nouns, [1, 3], taken), spec.zipfExponent);
    this.verbs = new Vocabulary(makeWords(this.random, spec.verbs, [1, 2], taken), spec.zipfExponent);
    this.transitive = this.verbs.words.map(() => this.random.next() < 0.6);
    this.adjectives = new Vocabulary(makeWords(this.random, spec.adjectives, [2, 3], taken), spec.zipfExponent);
    const names = makeWords(this.random, spec.names, [2, 3], taken).map((n) => n[0]?.toUpperCase() + n.slice(1));
    this.names = new Vocabulary(names, spec.zipfExponent);
  }

  /** A yes/no choice with probability p of yes, paid for in bits. */
  private chance(p: number): boolean {
    const yes = this.random.next() < p;
    this.bits -= Math.log2(yes ? p : 1 - p);
    return yes;
  }

  private uniform<T>(items: readonly T[]): T {
    this.bits += Math.log2(items.length);
    return items[this.random.int(items.length)] as T;
  }

  private word(vocabulary: Vocabulary): number {
    const index = vocabulary.draw(this.random);
    this.bits -= Math.log2(vocabulary.probabilities[index] as number);
    return index;
  }

  /** Topic nouns come back with probability 0.35; the cost is the mixture's probability of the noun drawn. */
  private noun(): number {
    const fromTopic = this.random.next() < 0.35;
    const index = fromTopic ? (this.topic[this.random.int(this.topic.length)] as number) : this.nouns.draw(this.random);
    const inTopic = this.topic.filter((t) => t === index).length / this.topic.length;
    this.bits -= Math.log2(0.35 * inTopic + 0.65 * (this.nouns.probabilities[index] as number));
    return index;
  }

  private nounPhrase(n: GrammaticalNumber, depth: number): string {
    if (n === 'sg' && this.chance(0.12)) return this.names.words[this.word(this.names)] as string;
    const parts = [this.uniform(n === 'sg' ? singularDeterminers : pluralDeterminers)];
    if (this.chance(0.35)) {
      parts.push(this.adjectives.words[this.word(this.adjectives)] as string);
      if (this.chance(0.2)) parts.push(this.adjectives.words[this.word(this.adjectives)] as string);
    }
    const noun = this.nouns.words[this.noun()] as string;
    parts.push(n === 'sg' ? noun : pluralOf(noun));
    if (depth < 2 && this.chance(0.25)) {
      parts.push(this.uniform(prepositions), this.nounPhrase(this.chance(0.5) ? 'sg' : 'pl', depth + 1));
    }
    // A relative clause agrees with the head noun, not with the noun just before it.
    if (depth < 2 && this.chance(0.15)) parts.push('that', this.verbPhrase(n, depth + 1));
    return parts.join(' ');
  }

  private verbPhrase(n: GrammaticalNumber, depth: number): string {
    const index = this.word(this.verbs);
    const verb = this.verbs.words[index] as string;
    const parts = [n === 'sg' ? `${verb}s` : verb];
    if (this.transitive[index]) parts.push(this.nounPhrase(this.chance(0.5) ? 'sg' : 'pl', depth + 1));
    if (this.chance(0.15)) parts.push(`${this.adjectives.words[this.word(this.adjectives)]}ly`);
    if (depth < 1 && this.chance(0.1)) parts.push('and', this.verbPhrase(n, depth + 1));
    return parts.join(' ');
  }

  private clause(): string {
    const n: GrammaticalNumber = this.chance(0.5) ? 'sg' : 'pl';
    return `${this.nounPhrase(n, 0)} ${this.verbPhrase(n, 0)}`;
  }

  sentence(): string {
    const text = this.chance(0.15) ? `when ${this.clause()}, ${this.clause()}` : this.clause();
    return `${text[0]?.toUpperCase()}${text.slice(1)}.`;
  }

  paragraph(): string {
    this.topic = [this.word(this.nouns), this.word(this.nouns), this.word(this.nouns)];
    const count = 3 + this.random.int(6);
    this.bits += Math.log2(6);
    const sentences: string[] = [];
    for (let i = 0; i < count; i++) sentences.push(this.sentence());
    return `${sentences.join(' ')}\n`;
  }
}

/** Yields the corpus in pieces of about 64 KB until `bytes` are produced; reports bits per byte at the end. */
export function* generateLanguage(bytes = spec.bytes, seed = spec.seed): Generator<string, number> {
  const generator = new LanguageGenerator(seed);
  let produced = 0;
  let piece = '';
  while (produced + piece.length < bytes) {
    piece += generator.paragraph();
    if (piece.length >= 65_536) {
      produced += piece.length;
      yield piece;
      piece = '';
    }
  }
  produced += piece.length;
  if (piece) yield piece;
  return generator.bits / produced;
}

export const demoLanguageSpec = spec;
