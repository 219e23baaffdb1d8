import { readFile } from 'node:fs/promises';
import { IsoflopError } from '../../../src-shared/contract';
import { formatCount, formatKnownFloor, knownFloorOf } from '../../../src-shared/format';
import { analyzeRuns } from '../../../src-shared/science/analysis';
import { parseRunsCsv } from '../../../src-shared/science/runs-csv';
import { DatasetStore } from '../../store/datasets/store';
import { RunStore } from '../../store/runs';
import { SweepStore } from '../../store/sweeps';
import {
  type CliIo,
  type Command,
  dataDirOf,
  flopsListOption,
  intOption,
  type OptionValues,
  storeOption,
  UsageError,
} from '../command';

/**
 * `isoflop fit runs.csv`: the three things the contract asks for, from any runs: the parametric
 * law with bootstrap intervals, the IsoFLOP exponents where the runs form budgets, and allocations.
 */

/** A sweep's completed runs: parameters, tokens trained, final validation loss. */
async function sweepRuns(id: string, values: OptionValues, io: CliIo) {
  const dataDir = dataDirOf(values, io);
  const sweeps = new SweepStore(dataDir);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id) || !(await sweeps.exists(id))) {
    throw new UsageError(`"${id}" is neither a CSV file nor a sweep in ${sweeps.root}`);
  }
  const store = new RunStore(dataDir);
  const sweep = await sweeps.get(id);
  const runs = [];
  for (const runId of sweep.runIds) {
    const run = await store.get(runId);
    if (run.status === 'completed' && run.result?.valLoss != null)
      runs.push({ n: run.params.total, d: run.result.tokens, loss: run.result.valLoss });
  }
  if (runs.length < 5) throw new UsageError(`sweep ${id} has ${runs.length} completed runs; a fit needs at least 5`);
  const dataset = await new DatasetStore(dataDir).get(sweep.datasetId).catch(() => null);
  return { runs, floor: dataset ? knownFloorOf(dataset) : null };
}

export const fit: Command = {
  summary: "Fit scaling laws (Chinchilla's approaches 2 and 3) to runs in a CSV",
  usage:
    'isoflop fit <runs.csv | sweep-id> [--store DIR] [--json] [--bootstrap N] [--budgets 1e18,1e21] [--seed S]\n  The CSV needs columns params, loss, and tokens or flops (D = C / 6N); others are ignored.',
  options: {
    ...storeOption,
    json: { type: 'boolean' },
    bootstrap: { type: 'string' },
    budgets: { type: 'string' },
    seed: { type: 'string' },
  },
  positionals: true,
  async run(values, positionals, io) {
    const path = positionals[0];
    if (!path) throw new UsageError('fit needs a CSV of runs: isoflop fit <runs.csv>');
    const samples = intOption(values, 'bootstrap', 0, 100_000) ?? 200;
    const seed = intOption(values, 'seed', 0, 2 ** 31 - 1) ?? 1;
    const budgets = flopsListOption(values, 'budgets') ?? [];
    let runs: ReturnType<typeof parseRunsCsv>;
    let floor: number | null = null;
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text !== null) {
      try {
        runs = parseRunsCsv(text, path);
      } catch (error) {
        // A CSV that cannot be fitted is a usage error: exit 2, with the line and column.
        if (error instanceof IsoflopError) throw new UsageError(error.message.replace(/\.$/, ''));
        throw error;
      }
    } else {
      ({ runs, floor } = await sweepRuns(path, values, io));
    }
    const analysis = analyzeRuns(runs, { bootstrap: samples, seed, budgets });
    const { law, ci95, isoflop } = analysis;
    const { a, b } = law;
    const result = {
      n: analysis.n,
      parametric: { E: law.E, A: law.A, B: law.B, alpha: law.alpha, beta: law.beta, a, b, ci95 },
      isoflop: isoflop
        ? {
            a: isoflop.a,
            b: isoflop.b,
            aCi95: isoflop.aCi95,
            bCi95: isoflop.bCi95,
            budgets: isoflop.budgets.map(({ runs: _runs, ...budget }) => budget),
          }
        : null,
      allocation: analysis.allocation,
    };
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    const interval = (name: keyof NonNullable<typeof ci95>) =>
      ci95 ? `  [${ci95[name][0].toPrecision(3)}, ${ci95[name][1].toPrecision(3)}]` : '';
    io.out(
      `Fitted L(N, D) = E + A / N^α + B / D^β to ${runs.length} runs (Huber δ = 1e-3 on log loss, L-BFGS from Chinchilla's grid):`,
    );
    for (const [name, key] of [
      ['E', 'E'],
      ['A', 'A'],
      ['B', 'B'],
      ['α', 'alpha'],
      ['β', 'beta'],
      ['a (N* ∝ C^a)', 'a'],
      ['b (D* ∝ C^b)', 'b'],
    ] as const) {
      const fitted = law[key];
      const beside = key === 'E' ? formatKnownFloor(fitted, floor) : '';
      io.out(`  ${name.padEnd(14)} ${fitted.toPrecision(4).padStart(10)}${interval(key)}${beside}`);
    }
    if (isoflop) {
      io.out(
        `IsoFLOP profiles (${isoflop.budgets.length} budgets): a = ${isoflop.a.toFixed(3)}, b = ${isoflop.b.toFixed(3)}`,
      );
      for (const budget of isoflop.budgets.filter((x) => x.edge)) {
        io.out(
          `  ${budget.flops.toExponential(2)} FLOPs: the lowest loss is at the ${budget.edge === 'smaller' ? 'smallest' : 'largest'} size; add ${budget.suggestedParams.map(formatCount).join(' and ')} parameters`,
        );
      }
    }
    for (const allocation of result.allocation) {
      io.out(
        `At ${allocation.flops.toExponential(2)} FLOPs: N* = ${formatCount(allocation.params)}, D* = ${formatCount(allocation.tokens)}, ` +
          `${allocation.tokensPerParam.toFixed(1)} tokens/param, predicted loss ${allocation.loss.toFixed(3)}` +
          (allocation.lossCi95
            ? ` (95% interval ${allocation.lossCi95[0].toFixed(3)} to ${allocation.lossCi95[1].toFixed(3)})`
            : ''),
      );
    }
    return 0;
  },
};
