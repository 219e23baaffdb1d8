import { readFile } from 'node:fs/promises';
import { IsoflopError } from '../../../src-shared/contract';
import { analyzeRuns, type FrontierAnalysis, type RunObservation } from '../../../src-shared/science/analysis';
import { budgetNotes } from '../../../src-shared/science/diagnostics';
import { datasetContext, observeRuns } from '../../../src-shared/science/run-observations';
import { parseRunsCsv } from '../../../src-shared/science/runs-csv';
import { DatasetStore } from '../../store/datasets/store';
import { RunStore } from '../../store/runs';
import { SweepStore } from '../../store/sweeps';
import { analysisLines } from '../analysis-text';
import {
  type CliIo,
  type Command,
  dataDirOf,
  flopsListOption,
  intOption,
  type OptionValues,
  storeOption,
  stringOption,
  UsageError,
} from '../command';

/**
 * `isoflop fit runs.csv`: the three things the contract asks for, from any runs: the parametric
 * law with bootstrap intervals, the IsoFLOP exponents where the runs form budgets, and allocations.
 */

/** A sweep's completed runs, with what its dataset tells the fit (known floor, unique tokens). */
async function sweepRuns(id: string, values: OptionValues, io: CliIo) {
  const dataDir = dataDirOf(values, io);
  const sweeps = new SweepStore(dataDir);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(id) || !(await sweeps.exists(id))) {
    throw new UsageError(`"${id}" is neither a CSV file nor a sweep in ${sweeps.root}`);
  }
  const store = new RunStore(dataDir);
  const sweep = await sweeps.get(id);
  const runs = observeRuns(await Promise.all(sweep.runIds.map((runId) => store.get(runId))));
  if (runs.length < 5) throw new UsageError(`sweep ${id} has ${runs.length} completed runs; a fit needs at least 5`);
  const dataset = await new DatasetStore(dataDir).get(sweep.datasetId).catch(() => null);
  return { runs, context: datasetContext(dataset) };
}

export const fit: Command = {
  summary: "Fit scaling laws (Chinchilla's three approaches) to a sweep's runs or a CSV, with a backtest",
  usage:
    'isoflop fit <runs.csv | sweep-id> [--store DIR] [--json] [--bootstrap N] [--budgets 1e18,1e21] [--seed S]\n' +
    '            [--params total|non-embedding] [--holdout-largest]\n' +
    '  The CSV needs columns params, loss, and tokens or flops (D = C / 6N); params_non_embedding is optional.\n' +
    '  --holdout-largest fits without the largest budget and says how well that predicts it.',
  options: {
    ...storeOption,
    json: { type: 'boolean' },
    bootstrap: { type: 'string' },
    budgets: { type: 'string' },
    seed: { type: 'string' },
    params: { type: 'string' },
    'holdout-largest': { type: 'boolean' },
  },
  positionals: true,
  async run(values, positionals, io) {
    const path = positionals[0];
    if (!path) throw new UsageError('fit needs a CSV of runs or a sweep id: isoflop fit <runs.csv | sweep-id>');
    const samples = intOption(values, 'bootstrap', 0, 100_000) ?? 200;
    const seed = intOption(values, 'seed', 0, 2 ** 31 - 1) ?? 1;
    const budgets = flopsListOption(values, 'budgets') ?? [];
    const paramsText = stringOption(values, 'params') ?? 'total';
    if (paramsText !== 'total' && paramsText !== 'non-embedding')
      throw new UsageError(`--params takes total or non-embedding, not "${paramsText}"`);
    const params = paramsText === 'total' ? 'total' : 'nonEmbedding';
    let runs: RunObservation[];
    let context: ReturnType<typeof datasetContext> = datasetContext(null);
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
      ({ runs, context } = await sweepRuns(path, values, io));
    }
    let analysis: FrontierAnalysis;
    try {
      analysis = analyzeRuns(runs, {
        bootstrap: samples,
        seed,
        budgets,
        params,
        holdoutLargest: values['holdout-largest'] === true,
        floor: context.floor,
        uniqueTokens: context.uniqueTokens,
      });
    } catch (error) {
      if (error instanceof RangeError) throw new UsageError(error.message);
      throw error;
    }
    if (values.json) {
      io.out(JSON.stringify(fitJson(analysis, context), null, 2));
      return 0;
    }
    for (const line of analysisLines(analysis, { bootstrap: samples, ...context })) io.out(line);
    return 0;
  },
};

/** The JSON contract: `parametric` (with ci95), `isoflop` (with budgets), `warnings`, and `backtest` when asked. */
function fitJson(analysis: FrontierAnalysis, context: ReturnType<typeof datasetContext>) {
  const { law, ci95, isoflop } = analysis;
  return {
    n: analysis.n,
    params: analysis.paramsCounted,
    compute: {
      ...analysis.compute.model,
      measure: analysis.compute.measure,
      description: analysis.compute.description,
    },
    parametric: { ...law, ci95, unbounded: analysis.unbounded },
    isoflop: isoflop
      ? {
          a: isoflop.a,
          b: isoflop.b,
          aCi95: isoflop.aCi95,
          bCi95: isoflop.bCi95,
          groupedBy: isoflop.groupedBy,
          runsUsed: isoflop.runsUsed,
          budgets: isoflop.budgets.map(({ runs, ...budget }) => ({ ...budget, runs: runs.length })),
        }
      : null,
    isoflopMissing: analysis.isoflopMissing,
    approachOneMissing: analysis.approachOneMissing,
    approaches: analysis.approaches,
    knownFloor: analysis.floor,
    backtest: analysis.backtest,
    allocation: analysis.allocation.map((allocation) => ({
      ...allocation,
      beyondLargestRun: allocation.flops / analysis.largestFlops,
      notes: budgetNotes(
        allocation.flops,
        allocation.tokens,
        analysis.largestFlops,
        context.uniqueTokens,
        context.items,
      ),
    })),
    runs: analysis.runs,
    warnings: analysis.warnings,
  };
}
