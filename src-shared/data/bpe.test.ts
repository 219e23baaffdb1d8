import { describe, expect, it } from 'vitest';
import { BpeTokenizer, BpeTrainer } from './bpe';

const corpus = `${'the cat sat on the mat. the dog sat on the log. '.repeat(50)}naïve café 123 — ok!\n`;

function train(text: string, vocabSize: number) {
  const trainer = new BpeTrainer();
  trainer.addText(text);
  return trainer.train(vocabSize);
}

describe('byte-level BPE', () => {
  it('round-trips any text, including characters it never merged', () => {
    const tokenizer = new BpeTokenizer(train(corpus, 300));
    for (const text of [corpus, 'unseen words ✓ 漢字 \t\n  spaces', '']) {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
  });

  it('compresses the text it was trained on', () => {
    const tokenizer = new BpeTokenizer(train(corpus, 320));
    const bytes = new TextEncoder().encode(corpus).length;
    expect(tokenizer.encode(corpus).length).toBeLessThan(bytes / 2.5);
  });

  it('is deterministic and stops at the vocabulary size', () => {
    const rich = Array.from({ length: 400 }, (_, i) => `w${(i * 7919) % 211} and ${'xyz'.slice(i % 3)}q${i % 13}`).join(
      ' ',
    );
    const first = train(rich, 280);
    const second = train(rich, 280);
    expect(second).toEqual(first);
    expect(first.vocabSize).toBe(280);
    expect(first.merges).toHaveLength(24);
    // " a", "an" and "nd" tie as the commonest pairs (400 each, one per " and"); ties go to the smallest ids.
    const tokenizer = new BpeTokenizer(first);
    expect(tokenizer.decode([256])).toBe(' a');
    expect(train(corpus, 280).vocabSize).toBeLessThanOrEqual(280);
  });

  it('stops early when no pair repeats', () => {
    const model = train('abc', 1000);
    expect(model.vocabSize).toBe(256);
  });

  it('refuses a vocabulary size it cannot store', () => {
    expect(() => train(corpus, 100)).toThrow(/257 to 65536/);
    expect(() => train(corpus, 70_000)).toThrow(/257 to 65536/);
  });
});
