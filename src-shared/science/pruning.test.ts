import { describe, expect, it } from 'vitest';
import { Random } from '../random';
import { ashaRungs, type Intermediate, pruningEvalSteps, shouldPrune } from './pruning';

const options = { startupTrials: 3, minResource: 10, reductionFactor: 3 };

/** A learning curve: loss falls from 1 towards `floor`, with seeded noise. */
function curve(floor: number, steps: number[], random: Random, noise = 0.01): Intermediate {
  return steps.map((s) => [s, floor + (1 - floor) * Math.exp(-s / 40) + noise * random.normal()] as const);
}

describe('pruners', () => {
  it('the median rule waits for its start-up trials, then stops a trial worse than the median at a step', () => {
    const others: Intermediate[] = [[[10, 0.5]], [[10, 0.6]]];
    expect(shouldPrune('median', 10, 0.9, others, 100, options)).toBe(false); // two trials: too few
    others.push([[10, 0.7]]);
    expect(shouldPrune('median', 10, 0.61, others, 100, options)).toBe(true);
    expect(shouldPrune('median', 10, 0.59, others, 100, options)).toBe(false);
    expect(shouldPrune('median', 20, 0.99, others, 100, options)).toBe(false); // nobody reported at step 20
    expect(shouldPrune('median', 100, 0.99, others, 100, options)).toBe(false); // the last step: finished
    expect(shouldPrune('none', 10, 0.99, others, 100, options)).toBe(false);
    expect(shouldPrune('median', 10, Number.NaN, [], 100, options)).toBe(true); // a diverged trial
  });

  it('ASHA promotes the best third at each rung, and decides only at rungs', () => {
    expect(ashaRungs(options, 100)).toEqual([10, 30, 90]);
    const steps = pruningEvalSteps('asha', 100, options);
    for (const rung of [10, 30, 90]) expect(steps).toContain(rung);
    // The first trial at a rung always goes on: it is the best third of one.
    expect(shouldPrune('asha', 10, 0.9, [], 100, options)).toBe(false);
    const others: Intermediate[] = [[[10, 0.4]], [[10, 0.5]], [[10, 0.6]], [[10, 0.7]], [[10, 0.8]]];
    // Six values at the rung: the best two go on.
    expect(shouldPrune('asha', 10, 0.45, others, 100, options)).toBe(false);
    expect(shouldPrune('asha', 10, 0.55, others, 100, options)).toBe(true);
    expect(shouldPrune('asha', 20, 0.99, others, 100, options)).toBe(false); // 20 is not a rung
  });

  it('over many seeded studies, pruning keeps the best trial and stops most of the poor ones', () => {
    const evalSteps = pruningEvalSteps('asha', 100, options);
    for (const pruner of ['median', 'asha'] as const) {
      let keptBest = 0;
      let stoppedPoor = 0;
      let poor = 0;
      for (let seed = 1; seed <= 20; seed++) {
        const random = new Random(seed);
        const floors = Array.from({ length: 12 }, () => 0.1 + 0.8 * random.next());
        const reported: Intermediate[] = [];
        const pruned: boolean[] = [];
        for (const floor of floors) {
          const full = curve(floor, evalSteps, random);
          const seen: Array<readonly [number, number]> = [];
          let stopped = false;
          for (const [step, value] of full) {
            seen.push([step, value]);
            // Median compares with finished trials, ASHA with every trial at the rung (here: all earlier ones).
            const others = pruner === 'median' ? reported.filter((_, i) => !pruned[i]) : reported;
            if (shouldPrune(pruner, step, value, others, 100, options)) {
              stopped = true;
              break;
            }
          }
          reported.push(seen);
          pruned.push(stopped);
        }
        const best = floors.indexOf(Math.min(...floors));
        if (!pruned[best]) keptBest++;
        const median = [...floors].sort((a, b) => a - b)[6] as number;
        floors.forEach((floor, i) => {
          if (floor > median + 0.1 && i >= 4) {
            poor++;
            if (pruned[i]) stoppedPoor++;
          }
        });
      }
      // The best trial can be pruned only when it is early and unlucky; poor late trials are mostly stopped.
      expect(keptBest, pruner).toBeGreaterThanOrEqual(17);
      expect(stoppedPoor / poor, pruner).toBeGreaterThan(0.6);
    }
  });
});
