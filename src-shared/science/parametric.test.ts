import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { computeOptimal, fitParametric, type Observation, predictLoss } from './parametric';

function chinchillaRuns(): Observation[] {
  const text = readFileSync(
    new URL('../../assets/validation/chinchilla_svg_extracted.csv', import.meta.url),
    'utf8',
  ).trim();
  const [header, ...lines] = text.split('\n');
  const columns = (header as string).split(',');
  const [iN, iC, iL] = ['Model Size', 'Training FLOP', 'loss'].map((name) => columns.indexOf(name)) as [
    number,
    number,
    number,
  ];
  return lines.map((line) => {
    const cells = line.split(',');
    const n = Number(cells[iN]);
    const c = Number(cells[iC]);
    return { n, d: c / (6 * n), loss: Number(cells[iL]) };
  });
}

describe('approach 3 (parametric fit)', () => {
  it("reproduces Besiroglu et al.'s fit of the Chinchilla data (E 1.82, A 482, B 2085, α 0.348, β 0.366)", () => {
    const runs = chinchillaRuns();
    expect(runs).toHaveLength(245);
    // As they did: drop the five highest-loss runs.
    const kept = [...runs].sort((x, y) => x.loss - y.loss).slice(0, runs.length - 5);
    const started = performance.now();
    const fit = fitParametric(kept);
    const seconds = (performance.now() - started) / 1000;
    expect(fit.E).toBeCloseTo(1.82, 1);
    expect(fit.alpha).toBeCloseTo(0.348, 2);
    expect(fit.beta).toBeCloseTo(0.366, 2);
    expect(Math.abs(Math.log(fit.A / 482))).toBeLessThan(0.1);
    expect(Math.abs(Math.log(fit.B / 2085))).toBeLessThan(0.1);
    expect(seconds).toBeLessThan(30);
    console.log(`Chinchilla refit: ${JSON.stringify(fit)} in ${seconds.toFixed(1)} s`);
  }, 120_000);

  it('recovers a known law from synthetic IsoFLOP runs with realistic noise', () => {
    const law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
    const random = new Random(3);
    const runs: Observation[] = [];
    for (const flops of [1e18, 3e18, 1e19, 3e19, 1e20, 3e20, 1e21]) {
      const optimum = computeOptimal(law, flops);
      for (let k = -4; k <= 4; k++) {
        const n = optimum.params * 2 ** (k / 1.5);
        const d = flops / (6 * n);
        runs.push({ n, d, loss: predictLoss(law, n, d) * Math.exp(0.005 * random.normal()) });
      }
    }
    const fit = fitParametric(runs);
    expect(fit.alpha).toBeCloseTo(0.34, 1);
    expect(fit.beta).toBeCloseTo(0.28, 1);
    expect(fit.E).toBeCloseTo(1.69, 1);
    const recovered = computeOptimal(fit, 1e22);
    const truth = computeOptimal(law, 1e22);
    expect(Math.abs(Math.log(recovered.params / truth.params))).toBeLessThan(0.3);
  }, 120_000);
});
