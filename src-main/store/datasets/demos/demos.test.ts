import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord, TableManifest, TextManifest } from '../../../../src-shared/contract';
import { tempFolder } from '../../../testing';
import {
  comparisonRegularization,
  createRegularizationComparison,
  overfitSliceId,
} from '../../../usecases/overfit-demo';
import { ensureDataDir } from '../../data-dir';
import { RunStore } from '../../runs';
import { DatasetStore } from '../store';
import { LanguageGenerator } from './demo-language';
import { ensureDemos, missingDemos, restoreDemos } from './demos';

const folder = tempFolder();
let store: DatasetStore;
let created: string[];

beforeAll(async () => {
  store = new DatasetStore(ensureDataDir(join(folder.dir, 'data')));
  created = await ensureDemos(store);
}, 120_000);
afterAll(() => folder.cleanup());

describe('built-in demo datasets', () => {
  it('are generated on first use, and a deleted one is not brought back', async () => {
    expect(created).toEqual(['demo-teacher', 'demo-language']);
    expect(await ensureDemos(store)).toEqual([]);
    const ids = (await store.list()).map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['demo-teacher', 'demo-language']));
  });

  it('a deleted demo stays deleted on the next start, and "restore the demos" brings it back from its seed', async () => {
    const before = (await store.get('demo-teacher')) as TableManifest;
    await store.delete('demo-teacher');
    expect(await ensureDemos(store)).toEqual([]);
    expect(await missingDemos(store)).toEqual(['demo-teacher']);
    expect(await restoreDemos(store)).toEqual(['demo-teacher']);
    expect(await missingDemos(store)).toEqual([]);
    const after = (await store.get('demo-teacher')) as TableManifest;
    expect(after.source.sha256).toBe(before.source.sha256);
    expect(after.stats.rows).toBe(before.stats.rows);
    expect(await restoreDemos(store)).toEqual([]);
  }, 60_000);

  it('demo-teacher: 200k rows whose noise floor is known, and a teacher that is far from trivial', async () => {
    const manifest = (await store.get('demo-teacher')) as TableManifest;
    expect(manifest.builtIn).toBe(true);
    expect(manifest.stats.rows).toBe(200_000);
    expect(manifest.irreducibleLoss).toBe(0.09);
    const buffer = readFileSync(join(store.root, 'demo-teacher', 'test.bin'));
    const values = new Float32Array(buffer.buffer, buffer.byteOffset, buffer.length / 4);
    const width = manifest.features + 1;
    const rows = values.length / width;
    expect(rows).toBe(manifest.splits.test.rows);
    let sum = 0;
    let sumSq = 0;
    for (let r = 0; r < rows; r++) {
      const y = values[r * width + manifest.features] as number;
      sum += y;
      sumSq += y * y;
    }
    const variance = sumSq / rows - (sum / rows) ** 2;
    // The targets vary several times more than the noise floor, so students have room to differ (a sweep's
    // runs span 0.14 to 0.22 at one budget, against the floor of 0.09: sweep-demo.test.ts).
    expect(variance).toBeGreaterThan(0.3);
    expect(variance / (manifest.irreducibleLoss as number)).toBeGreaterThan(5);
  });

  it('demo-language: several MB of text with its generating entropy per byte', async () => {
    const manifest = (await store.get('demo-language')) as TextManifest;
    expect(manifest.stats.bytes).toBeGreaterThan(4_000_000);
    expect(manifest.entropyBitsPerByte).toBeGreaterThan(0.3);
    expect(manifest.entropyBitsPerByte).toBeLessThan(3);
    expect(manifest.stats.sample).toMatch(/^[A-Z][a-z]+ /);
    expect(manifest.splits.val.uniqueTokens).toBeGreaterThan(30);
  });

  it('demo-language: subjects agree with their verbs, even across a relative clause', () => {
    const generator = new LanguageGenerator(5);
    const text = Array.from({ length: 200 }, () => generator.sentence()).join(' ');
    // "<det> ... that <verb>" : after a plural determiner + noun, the relative clause's verb has no -s.
    const plural = [
      ...text.matchAll(/\b(?:These|Those|Some|Many|Few|All|these|those|some|many|few|all) ([a-z]+s) that ([a-z]+)\b/g),
    ];
    expect(plural.length).toBeGreaterThan(3);
    for (const match of plural) expect(match[2]?.endsWith('s')).toBe(false);
  });
});

describe('the regularization comparison', () => {
  it('queues one large network on the 256-row slice twice: without, and with every regularizer', async () => {
    const runs = new RunStore(join(folder.dir, 'data'));
    const [plain, regularized] = (await createRegularizationComparison({ datasets: store, runs })) as [
      RunRecord,
      RunRecord,
    ];
    expect(plain.config.datasetId).toBe(overfitSliceId);
    expect([
      plain.config.model.family === 'mlp' && plain.config.model.dropout,
      plain.config.weightDecay,
      plain.config.l2,
    ]).toEqual([0, 0, 0]);
    const on = comparisonRegularization;
    expect([
      regularized.config.model.family === 'mlp' && regularized.config.model.dropout,
      regularized.config.weightDecay,
      regularized.config.l2,
    ]).toEqual([on.dropout, on.weightDecay, on.l2]);
    // Everything else is the same, so the curves differ by regularization alone.
    const without = (run: RunRecord) => ({
      ...run.config,
      model: { ...run.config.model, dropout: 0 },
      weightDecay: 0,
      l2: 0,
    });
    expect(without(regularized)).toEqual(without(plain));
    expect(plain.config.earlyStopping).toBeNull();
    expect(regularized.name).toContain('dropout 0.2, weight decay 0.1, L2 0.0001');
    expect((await runs.list()).filter((entry) => entry.ok && entry.run.status === 'queued')).toHaveLength(2);
  });
});
