import {
  type BenchModel,
  benchSpec,
  benchTraining,
  defaultRounds,
  profileTraining,
  type TrainingBench,
} from '../../../src-shared/engine/bench';
import type { GradientHelpers } from '../../../src-shared/engine/trainer-types';
import { formatBytes } from '../../../src-shared/format';
import { dataParallelHelpers, useNodeBackend } from '../../training/node-backends';
import { benchCharts, type ChartBenchRow } from '../bench/charts';
import { benchDatasets } from '../bench/datasets';
import { benchVsTorch, type VsTorch } from '../bench/torch';
import {
  backendOption,
  backendOptionSpec,
  backendUsage,
  type CliIo,
  type Command,
  choiceOption,
  intOption,
  type OptionValues,
  UsageError,
} from '../command';

/**
 * Steps per round: on a GPU enough for the engine's reads every 10 steps to show; on WASM and the CPU,
 * where a gpt-small step takes seconds, few.
 */
function defaultSteps(model: BenchModel, backend: string): number {
  if (backend === 'webgpu') return 20;
  return model === 'mlp' ? 20 : 2;
}

function printTraining(result: TrainingBench, io: CliIo): void {
  io.out(
    `${result.model}: ${(result.params / 1e6).toFixed(2)}M parameters, ${(result.flopsPerToken / 1e6).toFixed(2)} MFLOP per token (Chinchilla count), ${result.steps} timed steps a round, fastest of ${result.rounds} alternating rounds`,
  );
  io.out('loop       backend   tokens/s    GFLOP/s   peak tensor memory');
  for (const [name, figures] of [
    ['engine', result.engine],
    ['naive', result.baseline],
  ] as const) {
    io.out(
      `${name.padEnd(10)} ${figures.backend.padEnd(8)} ${figures.tokensPerSec.toFixed(0).padStart(9)} ${figures.gflops.toFixed(2).padStart(10)}   ${formatBytes(figures.peakBytes)}`,
    );
  }
  if (result.countBytes !== null) {
    io.out(
      `by count: ${formatBytes(result.countBytes)} (weights, gradients, AdamW's moments and the activations the backward pass reads); the engine's peak is ${(result.engine.peakBytes / result.countBytes).toFixed(2)}x of it`,
    );
  }
  if (result.wasmThreads !== null) {
    io.out(`WASM threads: ${result.wasmThreads} (XNNPACK's pool; ISOFLOP_WASM_THREADS sets how many)`);
  }
  if (result.dataParallel !== null) {
    io.out(
      `data parallel: ${result.dataParallel} threads share each batch of the engine's loop, each with its own copy of the model (ISOFLOP_PARALLEL=threads gives XNNPACK the threads instead)`,
    );
    if (result.oneThread) {
      io.out(
        `one thread: ${result.oneThread.tokensPerSec.toFixed(0)} tokens/s in the same alternating rounds; ${result.dataParallel} threads are ${result.oneThread.speedup.toFixed(2)}x of it`,
      );
    }
  }
  if (result.kernelSwaps.length > 0) {
    io.out(
      `engine kernels: ${result.kernelSwaps.join(', ')} in place of stock tfjs's kernels and composites; the naive loop runs stock tfjs`,
    );
  }
  io.out(`engine / naive: ${result.ratio.toFixed(2)}x`);
}

function printVsTorch(result: VsTorch, io: CliIo): void {
  io.out(
    `${result.model}: ${(result.engine.params / 1e6).toFixed(2)}M parameters, ${result.steps} timed steps a round, fastest of ${result.rounds} alternating rounds`,
  );
  io.out('trainer                 tokens/s   on');
  io.out(
    `engine (isoflop)   ${result.engine.tokensPerSec.toFixed(0).padStart(13)}   ${result.engine.backend}${result.engine.dataParallel ? ` on ${result.engine.dataParallel} threads (data parallel)` : ''}, ${result.engine.gflops.toFixed(2)} GFLOP/s`,
  );
  if (result.torch) {
    const { torch } = result;
    io.out(
      `PyTorch ${torch.torch.padEnd(10)} ${torch.tokensPerSec.toFixed(0).padStart(13)}   ${torch.device}${torch.device === 'cpu' ? `, ${torch.threads} threads` : ''} (bench/torch_gpt.py, ${(torch.params / 1e6).toFixed(2)}M parameters)`,
    );
    io.out(`engine / PyTorch: ${(result.ratio as number).toFixed(3)}x`);
  } else io.out(`PyTorch: not measured (${result.torchMissing})`);
}

async function runDatasets(values: OptionValues, io: CliIo): Promise<number> {
  const sizeMb = intOption(values, 'size-mb', 1, 100_000) ?? 200;
  const rows = await benchDatasets(sizeMb, (line) => io.err(line));
  if (values.json) {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  io.out(
    'import               size      time     MB/s   vs raw read   output   durable write   vs durable write   peak RSS   target',
  );
  for (const row of rows) {
    io.out(
      [
        row.what.padEnd(18),
        `${row.megabytes.toFixed(0)} MB`.padStart(8),
        `${row.seconds.toFixed(2)} s`.padStart(9),
        row.mbPerSecond.toFixed(1).padStart(8),
        `${row.ratioToRawRead.toFixed(3)}x`.padStart(13),
        `${row.outputMegabytes.toFixed(0)} MB`.padStart(8),
        `${row.durableWriteMbPerSecond.toFixed(0)} MB/s`.padStart(15),
        `${row.ratioToDurableWrite.toFixed(2)}x`.padStart(18),
        `${row.peakRssMb.toFixed(0)} MB`.padStart(10),
        `  ${row.target} ${row.met ? 'met' : 'NOT met'}`,
      ].join(' '),
    );
  }
  io.out(
    "durable write: the import's output bytes written from memory and fsynced, the fastest any import that keeps its output can go on this disk.",
  );
  const [threaded, alone] = rows.filter((row) => row.what.startsWith('CSV'));
  if (threaded && alone && threaded.readerThreads > 0) {
    io.out(
      `CSV read on ${threaded.readerThreads} reader threads / on the importing thread alone: ${(alone.seconds / threaded.seconds).toFixed(2)}x (the same dataset, bit for bit).`,
    );
  }
  return 0;
}

async function runCharts(values: OptionValues, io: CliIo): Promise<number> {
  const points = intOption(values, 'points', 100, 10_000_000) ?? 100_000;
  const rows = await benchCharts(points, (line) => io.err(line));
  if (values.json) {
    io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  io.out(`A run chart of ${points.toLocaleString('en-US')} training-loss rows (and a validation row per 100):`);
  io.out('drawing                      points drawn   SVG size   build (JS)   layout   painted (Chromium)');
  const ms = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} ms`);
  for (const row of rows) {
    io.out(
      [
        row.what.padEnd(27),
        String(row.drawnPoints).padStart(13),
        `${row.svgKilobytes.toFixed(0)} kB`.padStart(10),
        ms(row.buildMs).padStart(12),
        ms(row.layoutMs).padStart(8),
        ms(row.paintedMs).padStart(12),
      ].join(' '),
    );
  }
  const [floor, raw, sampled] = rows;
  if (floor && raw && sampled) {
    // Drawing time above the empty chart's: what the points themselves cost.
    const cost = (row: ChartBenchRow) => row.buildMs + Math.max(0, (row.paintedMs ?? 0) - (floor.paintedMs ?? 0));
    io.out(`every point / sampled, build + paint above the frame floor: ${(cost(raw) / cost(sampled)).toFixed(1)}x`);
  }
  return 0;
}

export const bench: Command = {
  summary: 'Benchmarks that print figures: training throughput (engine vs a naive loop), dataset import, charts',
  usage: [
    `isoflop bench [--model gpt-small|gpt-medium|mlp] ${backendUsage} [--steps N] [--rounds N] [--json]`,
    `       isoflop bench --profile [--model gpt-small|gpt-medium|mlp] ${backendUsage} [--steps N] [--json]`,
    `       isoflop bench --vs-torch [--model gpt-small|gpt-medium] ${backendUsage} [--steps N] [--rounds N] [--json]`,
    '       isoflop bench --datasets [--size-mb N] [--json]',
    '       isoflop bench --charts [--points N] [--json]',
  ].join('\n'),
  options: {
    datasets: { type: 'boolean' },
    charts: { type: 'boolean' },
    'vs-torch': { type: 'boolean' },
    profile: { type: 'boolean' },
    points: { type: 'string' },
    'size-mb': { type: 'string' },
    model: { type: 'string' },
    ...backendOptionSpec,
    steps: { type: 'string' },
    rounds: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    if (values.datasets) return runDatasets(values, io);
    if (values.charts) return runCharts(values, io);
    const model =
      choiceOption(values, 'model', ['gpt-small', 'gpt-medium', 'mlp'] as const) ?? ('gpt-small' as BenchModel);
    if (values['vs-torch'] && model === 'mlp')
      throw new UsageError('--vs-torch compares the transformer: use --model gpt-small or --model gpt-medium');
    const preference = await backendOption(values);
    const backend = await useNodeBackend(preference);
    if (preference && preference !== 'auto' && backend !== preference)
      io.err(`The ${preference} backend did not start; measuring on ${backend}.`);
    const steps = intOption(values, 'steps', 1, 100_000) ?? defaultSteps(model, backend);
    const rounds = intOption(values, 'rounds', 1, 100) ?? defaultRounds;
    if (values.profile && values['vs-torch'])
      throw new UsageError('--profile and --vs-torch are two measurements: run one, then the other');
    if (values.profile) {
      const profileSteps = intOption(values, 'steps', 1, 1000) ?? 1;
      io.err(
        `Profiling ${profileSteps} step${profileSteps === 1 ? '' : 's'} of ${model} on ${backend}, kernel by kernel...`,
      );
      const result = await profileTraining(model, profileSteps);
      if (values.json) {
        io.out(JSON.stringify(result, null, 2));
        return 0;
      }
      io.out(
        `${model} on ${result.backend}: ${result.steps} step${result.steps === 1 ? '' : 's'}, ${result.wallMs.toFixed(0)} ms wall, ${result.kernelMs.toFixed(0)} ms in ${result.kernels.reduce((n, k) => n + k.calls, 0)} kernel calls (the rest: JavaScript and dispatch)`,
      );
      io.out('kernel                      calls        ms    share');
      for (const k of result.kernels.slice(0, 25))
        io.out(
          `${k.kernel.padEnd(26)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(1).padStart(9)} ${(100 * k.share).toFixed(1).padStart(7)}%`,
        );
      if (result.kernels.length > 25) io.out(`… and ${result.kernels.length - 25} more kernels`);
      return 0;
    }
    const { spec, batchSize } = benchSpec(model);
    const helpers = await dataParallelHelpers(backend, spec, 1, batchSize);
    try {
      return await measure(helpers);
    } finally {
      await helpers?.close();
    }
    async function measure(helpers: GradientHelpers | null): Promise<number> {
      if (values['vs-torch']) {
        io.err(`Measuring ${model} on ${backend} against PyTorch: ${rounds} alternating rounds of ${steps} steps...`);
        const result = await benchVsTorch(model, steps, rounds, (line) => io.err(line), helpers);
        if (values.json)
          io.out(
            JSON.stringify(
              {
                engine: result.engine,
                torch: result.torch,
                ratio: result.ratio,
                model,
                steps,
                rounds,
                torchMissing: result.torchMissing,
              },
              null,
              2,
            ),
          );
        else printVsTorch(result, io);
        return 0;
      }
      io.err(
        `Measuring ${model} on ${backend}: ${rounds} rounds of ${steps} steps with the engine, then with a naive loop...`,
      );
      const result = await benchTraining(model, steps, rounds, helpers);
      if (values.json) io.out(JSON.stringify(result, null, 2));
      else printTraining(result, io);
      return 0;
    }
  },
};
