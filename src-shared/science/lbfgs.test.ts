import { describe, expect, it } from 'vitest';
import { minimize } from './lbfgs';

describe('L-BFGS', () => {
  it('finds the minimum of the Rosenbrock function from the classic start', () => {
    const result = minimize(
      (x, g) => {
        const [a, b] = [x[0] as number, x[1] as number];
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        g[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      [-1.2, 1],
    );
    expect(result.x[0]).toBeCloseTo(1, 5);
    expect(result.x[1]).toBeCloseTo(1, 5);
    expect(result.converged).toBe(true);
  });

  it('solves an ill-conditioned 20-dimensional quadratic', () => {
    const scales = Array.from({ length: 20 }, (_, i) => 10 ** (i / 5));
    const result = minimize((x, g) => {
      let v = 0;
      scales.forEach((s, i) => {
        const d = (x[i] as number) - i;
        v += 0.5 * s * d * d;
        g[i] = s * d;
      });
      return v;
    }, new Array(20).fill(0));
    for (let i = 0; i < 20; i++) expect(result.x[i]).toBeCloseTo(i, 4);
  });
});
