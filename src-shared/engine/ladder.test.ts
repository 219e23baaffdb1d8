import { describe, expect, it } from 'vitest';
import { gptParamCount } from './accounting';
import { gptForParams, gptSmall, mlpForParams } from './ladder';
import { mlpParamCount } from './models/mlp';

const base = {
  vocabSize: 256,
  contextLength: 128,
  positions: 'learned' as const,
  tiedEmbeddings: true,
  dropout: 0,
  embedding: 'onehot' as const,
};

describe('size ladder', () => {
  it('finds transformer shapes within 15% of the target across three orders of magnitude', () => {
    let previous = 0;
    for (const target of [5e4, 2e5, 1e6, 5e6, 3e7]) {
      const config = gptForParams(target, base);
      const count = gptParamCount(config).total;
      expect(Math.abs(count / target - 1)).toBeLessThan(0.15);
      expect(config.dModel % config.nHeads).toBe(0);
      expect(config.dModel / config.nLayers).toBeGreaterThanOrEqual(8);
      expect(config.dModel / config.nLayers).toBeLessThanOrEqual(128);
      expect(count).toBeGreaterThan(previous);
      previous = count;
    }
  });

  it('can aim at Kaplan non-embedding parameters instead', () => {
    const config = gptForParams(1e6, base, { aspectRatio: 32, count: 'nonEmbedding' });
    expect(Math.abs(gptParamCount(config).nonEmbedding / 1e6 - 1)).toBeLessThan(0.15);
  });

  it('finds MLP widths for the teacher demo sizes of DESIGN.md', () => {
    const mlp = {
      inputs: 16,
      depth: 2,
      activation: 'tanh' as const,
      dropout: 0,
      task: 'regression' as const,
      outputs: 1,
    };
    expect(mlpForParams(93, mlp).width).toBe(4);
    expect(mlpForParams(18_800, mlp).width).toBe(128);
    const mid = mlpForParams(5000, mlp);
    expect(Math.abs(mlpParamCount(mid).total / 5000 - 1)).toBeLessThan(0.1);
  });

  it('gpt-small is the documented standard model', () => {
    expect(gptParamCount(gptSmall).total).toBeGreaterThan(0.8e6);
  });
});
