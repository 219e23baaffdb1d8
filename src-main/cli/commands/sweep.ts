import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type DatasetManifest, PlannedRun, type RunRecord } from '../../../src-shared/contract';
import { estimateRunSeconds, type MeasuredThroughput } from '../../../src-shared/engine/planner';
import {
  estimateEta,
  formatCount,
  formatDuration,
  formatFlops,
  formatKnownFloor,
  formatRatio,
} from '../../../src-shared/format';
import { analyzeRuns } from '../../../src-shared/science/analysis';
import { formatInterval } from '../../../src-shared/science/diagnostics';
import { type DatasetContext, datasetContext, observeRuns } from '../../../src-shared/science/run-observations';
import type { App } from '../../api';
import { ensureDemos } from '../../store/datasets/demos/demos';
import { tuneLearningRates } from '../../training/lr-tuning';
import { type NodeBackendPreference, nodeBackendOrder } from '../../training/node-backends';
import { createSweep, runSweep } from '../../training/sweep';
import {
  apiOf,
  backendOption,
  backendOptionSpec,
  backendUsage,
  type CliIo,
  type Command,
  choiceOption,
  flopsListOption,
  intOption,
  numberOption,
  type OptionValues,
  storeOption,
  stringOption,
  UsageError,
} from '../command';
import { endWithParent, jobsFor, passWithJobs, startJobs } from '../jobs';

const PlanFile = z.object({
  datasetId: z.string(),
  batchSize: z.number().int().positive(),
  plan: z.array(PlannedRun).min(1),
});

/** A plan written by --plan-only --json: every shard derives the same sweep id from its content. */
async function sweepFromPlanFile(path: string, s: App): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`there is no plan file at "${path}" (write one with --plan-only --json > plan.json)`);
  });
  let parsed: z.infer<typeof PlanFile>;
  try {
    parsed = PlanFile.parse(JSON.parse(text));
  } catch {
    throw new UsageError(`${path} is not a sweep plan from 'isoflop sweep --plan-only --json'`);
  }
  const id = `sweep-plan-${createHash('sha256').update(JSON.stringify(parsed)).digest('hex').slice(0, 12)}`;
  const dataset = await s.datasets.get(parsed.datasetId);
  await createSweep(s, dataset, parsed.plan, { batchSize: parsed.batchSize, seed: 1, id });
  return id;
}

function parseShard(text: string | undefined, env: NodeJS.ProcessEnv): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+|env)\/(\d+)$/.exec(text);
  if (!match) throw new UsageError(`--shard takes I/N such as 0/8, or env/8, not "${text}"`);
  const count = Number(match[2]);
  const fromEnv = env.SLURM_ARRAY_TASK_ID ?? env.JOB_COMPLETION_INDEX;
  const index = match[1] === 'env' ? Number(fromEnv) : Number(match[1]);
  if (match[1] === 'env' && fromEnv === undefined) {
    throw new UsageError('--shard env/N needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment');
  }
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new UsageError(`--shard ${text}: I must be from 0 to ${count - 1}`);
  return { index, count };
}

function requiredBudgets(values: OptionValues): number[] {
  const budgets = flopsListOption(values, 'budgets');
  if (!budgets) throw new UsageError('say which compute budgets to sweep: --budgets 1e8,3e8,1e9');
  return budgets;
}

/** The plan as a table; estimated times come from the speed completed runs reached here on `speed.backend`. */
function printPlan(plan: PlannedRun[], speed: MeasuredThroughput | null, backend: string, io: CliIo): void {
  const tuned = plan.some((run) => run.learningRate !== undefined);
  io.out(
    `budget (FLOPs)   params    tokens     tokens/param   steps    epochs   est. time${tuned ? '   peak lr' : ''}   warnings`,
  );
  let total = 0;
  for (const run of plan) {
    const seconds = speed ? estimateRunSeconds(run, speed) : null;
    total += seconds ?? 0;
    io.out(
      [
        formatFlops(run.budgetFlops).padEnd(15),
        formatCount(run.params).padStart(7),
        formatCount(run.tokens).padStart(9),
        formatRatio(run.tokensPerParam).padStart(14),
        String(run.steps).padStart(7),
        run.epochs.toFixed(2).padStart(9),
        (seconds === null ? '-' : formatDuration(seconds)).padStart(11),
        ...(tuned ? [(run.learningRate?.toExponential(1) ?? '-').padStart(9)] : []),
        `  ${run.warnings.join('; ')}`,
      ].join(' '),
    );
  }
  io.out(
    speed
      ? `About ${formatDuration(total)} in all on ${backend}, at the speed ${speed.runs} completed run(s) of this model family reached here.`
      : `No time estimate: no run of this model family has completed here on ${backend} yet.`,
  );
}

/** `--tune-lr`: each size's learning rate searched first (a study per size), then the plan with the best rates. */
async function tunedPlan(
  s: App,
  dataset: DatasetManifest,
  plan: PlannedRun[],
  options: { batchSize: number; points: number; seed: number; backend?: NodeBackendPreference | undefined; io: CliIo },
): Promise<PlannedRun[]> {
  const { io } = options;
  const tuned = await tuneLearningRates(s, dataset, plan, {
    ...options,
    onSize: ({ params, index, count, rates, steps }) =>
      io.err(
        `Learning rate for ${formatCount(params)} parameters (${index + 1}/${count}): ${rates.map((r) => r.toExponential(1)).join(', ')}, ${steps} steps each`,
      ),
    onTrial: (trial) =>
      io.err(
        `  lr ${Number(trial.params.learningRate).toExponential(1)}: ${trial.state}${trial.value !== null ? `, best val ${trial.value.toFixed(4)}` : ''}`,
      ),
  });
  for (const best of tuned.chosen)
    io.err(
      `  ${formatCount(best.params)} parameters: peak learning rate ${best.learningRate.toExponential(1)} (study ${best.studyId})${best.atEdge ? '; at the edge of the grid: a wider --lr-grid may find a better one' : ''}`,
    );
  for (const params of tuned.missing)
    io.err(`  ${formatCount(params)} parameters: no trial completed; the default rate stays`);
  return tuned.plan;
}

export const sweep: Command = {
  summary: 'Plan and run an IsoFLOP sweep headless, into the same store the app shows',
  usage: [
    'isoflop sweep (--demo teacher|language | --dataset ID) --budgets 1e8,3e8,1e9 [--sizes K] [--batch B]',
    `               ${backendUsage} [--seed S] [--tune-lr [--lr-grid 5]] [--plan-only] [--json] [--store DIR]`,
    `       isoflop sweep --resume SWEEP_ID ${backendUsage} [--jobs N] [--json] [--store DIR]`,
    '  --jobs N: N processes train the sweep runs at once, each taking the next run none has claimed. By default',
    '  (or ISOFLOP_JOBS=auto) one per core on WASM and the CPU, as many as memory holds; one on a GPU.',
    `       isoflop sweep --plan plan.json [--shard I/N] ${backendUsage} [--store SHARED_DIR]`,
    '  Regularization for every run: [--weight-decay X] [--l1 X] [--l2 X] [--dropout P] [--early-stopping PATIENCE [--early-stopping-metric val-loss|val-accuracy] [--early-stopping-min-delta X]]',
    '  --tune-lr: before the sweep, a short learning-rate search per size at the smallest budget (a grid of',
    '  --lr-grid rates 2.5x apart around the default, each size a study); each size then trains at its best rate.',
    '  plan.json comes from --plan-only --json; every shard of one plan joins the same sweep. I may be',
    '  "env": SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX (Kubernetes indexed Jobs).',
  ].join('\n'),
  options: {
    ...storeOption,
    ...backendOptionSpec,
    demo: { type: 'string' },
    dataset: { type: 'string' },
    budgets: { type: 'string' },
    sizes: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    resume: { type: 'string' },
    plan: { type: 'string' },
    shard: { type: 'string' },
    'weight-decay': { type: 'string' },
    l1: { type: 'string' },
    l2: { type: 'string' },
    dropout: { type: 'string' },
    'early-stopping': { type: 'string' },
    'early-stopping-metric': { type: 'string' },
    'early-stopping-min-delta': { type: 'string' },
    'plan-only': { type: 'boolean' },
    'tune-lr': { type: 'boolean' },
    'lr-grid': { type: 'string' },
    jobs: { type: 'string' },
    /** a --jobs worker: trains runs of --resume's sweep and prints no summary (the command that started it does) */
    worker: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    // A job process ends with the command that started it, from its first moment.
    if (values.worker) endWithParent();
    const api = apiOf(values, io);
    const s = api.app;
    const backend = await backendOption(values);
    let sweepId = stringOption(values, 'resume');
    const shard = parseShard(stringOption(values, 'shard'), io.env);
    const planFile = stringOption(values, 'plan');
    if (planFile) sweepId = await sweepFromPlanFile(planFile, s);
    if (!sweepId) {
      const demo = choiceOption(values, 'demo', ['teacher', 'language'] as const);
      const datasetId = demo ? `demo-${demo}` : stringOption(values, 'dataset');
      if (!datasetId) throw new UsageError('say which data to sweep: --demo teacher, --demo language or --dataset ID');
      if (demo) await ensureDemos(s.datasets);
      // Through the router, as the app plans and creates: limits, defaults (the batch size) and errors are the contract's.
      const dataset = await api.call('datasets.get', { id: datasetId }, { id: '--dataset' });
      const number = (name: string) => numberOption(values, name, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      const seed = number('seed');
      const request = {
        datasetId: dataset.id,
        budgets: requiredBudgets(values),
        sizesPerBudget: number('sizes') ?? 5,
        batchSize: number('batch'),
      };
      const flags = {
        budgets: '--budgets',
        sizesPerBudget: '--sizes',
        batchSize: '--batch',
        seed: '--seed',
        regularization: 'the regularization flags',
      };
      const planned = await api.call('sweeps.plan', request, flags);
      const { batchSize } = planned;
      let plan = planned.plan;
      const lrGrid = intOption(values, 'lr-grid', 2, 15);
      if (lrGrid !== undefined && !values['tune-lr']) throw new UsageError('--lr-grid goes with --tune-lr');
      if (values['tune-lr']) {
        plan = await tunedPlan(s, dataset, plan, {
          batchSize,
          points: lrGrid ?? 5,
          seed: seed ?? 1,
          ...(backend ? { backend } : {}),
          io,
        });
      }
      if (values['plan-only']) {
        if (values.json) io.out(JSON.stringify({ datasetId: dataset.id, batchSize, plan }, null, 2));
        else {
          const on = (await nodeBackendOrder(backend))[0] ?? 'wasm';
          printPlan(plan, planned.throughput.find((t) => t.backend === on) ?? null, on, io);
        }
        return 0;
      }
      const created = await api.call(
        'sweeps.create',
        {
          ...request,
          ...(seed === undefined ? {} : { seed }),
          learningRates: plan.flatMap((run) =>
            run.learningRate === undefined ? [] : [{ params: run.params, learningRate: run.learningRate }],
          ),
          regularization: {
            weightDecay: number('weight-decay'),
            l1: number('l1'),
            l2: number('l2'),
            dropout: number('dropout'),
            earlyStoppingPatience: number('early-stopping'),
            earlyStoppingMinDelta: number('early-stopping-min-delta'),
            earlyStoppingMetric:
              choiceOption(values, 'early-stopping-metric', ['val-loss', 'val-accuracy'] as const) === 'val-accuracy'
                ? 'valAccuracy'
                : 'valLoss',
          },
        },
        flags,
      );
      sweepId = created.id;
      io.err(`Sweep ${sweepId}: ${plan.length} runs over ${dataset.name}.`);
    }
    const given = intOption(values, 'jobs', 1, 64);
    if (given !== undefined && given > 1 && shard)
      throw new UsageError('--jobs and --shard split the runs two ways: use one of them');
    // A cluster shard or a job process trains alone; otherwise --jobs, ISOFLOP_JOBS or what this machine allows.
    const { jobs, why } =
      shard || values.worker
        ? { jobs: 1, why: null }
        : jobsFor(
            given,
            io.env,
            (await nodeBackendOrder(backend))[0] ?? 'wasm',
            await Promise.all((await s.sweeps.get(sweepId)).runIds.map((id) => s.runs.get(id))),
          );
    if (!values.worker) {
      io.err(
        jobs > 1
          ? 'Largest budget first, so that the longest runs start early and no process waits alone on one at the end.'
          : 'Smallest budget first.',
      );
    }
    // The cores are shared: each of the N processes computes WASM on its share.
    const workers = values.worker
      ? null
      : startJobs(
          jobs,
          why,
          ['sweep', '--resume', sweepId, '--worker', '--store', s.dataDir, ...(backend ? ['--backend', backend] : [])],
          io,
          ', each taking the next unclaimed run',
        );
    let stopping = false;
    const control: { stop?: () => void } = {};
    const onSignal = () => {
      stopping = true;
      control.stop?.();
      workers?.stop();
    };
    process.once('SIGINT', onSignal);
    let runStart = Date.now();
    try {
      const train = () =>
        runSweep(s, sweepId as string, {
          backend,
          control,
          ...(shard ? { shard } : {}),
          largestFirst: jobs > 1 || values.worker === true,
          shouldStop: () => stopping,
          onRunStart: (run, index, total) => {
            runStart = Date.now();
            io.progress?.('', true);
            io.err(`[${index + 1}/${total}] ${run.name}: ${run.config.plannedSteps} steps`);
          },
          onMetrics: (run, m) => {
            const eta = estimateEta((Date.now() - runStart) / 1000, m.step, run.config.plannedSteps);
            const text = `  step ${m.step}/${run.config.plannedSteps}  train ${m.trainLoss.toFixed(4)}  val ${m.valLoss?.toFixed(4) ?? '-'}  ${formatCount(m.tokensPerSecond)} tok/s  ETA ${eta === null ? '…' : formatDuration(eta)}`;
            if (io.progress) io.progress(text, false);
          },
        });
      // A job that crashed left its run with a dead lock: the second pass resumes it, in this process.
      const runs = await passWithJobs(workers, io, train, () => !stopping);
      io.progress?.('', true);
      if (values.worker) return 0;
      const sweep = await s.sweeps.get(sweepId);
      const context = datasetContext(await s.datasets.get(sweep.datasetId).catch(() => null));
      return report(runs, sweepId, context, values, io);
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

function report(runs: RunRecord[], sweepId: string, context: DatasetContext, values: OptionValues, io: CliIo): number {
  const observations = observeRuns(runs);
  const floor = context.floor;
  const fit =
    observations.length >= 5
      ? analyzeRuns(observations, { bootstrap: 100, seed: 1, budgets: [], floor, uniqueTokens: context.uniqueTokens })
      : null;
  const summary = runs.map((r) => ({
    id: r.id,
    name: r.name,
    status: r.status,
    params: r.params.total,
    budgetFlops: r.config.budgetFlops,
    peakLearningRate: r.config.peakLearningRate,
    tokens: r.result?.tokens ?? null,
    valLoss: r.result?.valLoss ?? null,
    bestValLoss: r.result?.bestValLoss ?? null,
    wallSeconds: r.result?.wallSeconds ?? null,
  }));
  if (values.json) {
    io.out(
      JSON.stringify(
        {
          sweepId,
          runs: summary,
          fit: fit
            ? {
                law: fit.law,
                ci95: fit.ci95,
                isoflop: fit.isoflop ? { a: fit.isoflop.a, b: fit.isoflop.b } : null,
                knownFloor: floor,
                warnings: fit.warnings,
              }
            : null,
        },
        null,
        2,
      ),
    );
  } else {
    io.out(`Sweep ${sweepId}:`);
    for (const r of summary) {
      io.out(
        `  ${r.status.padEnd(11)} ${r.name.padEnd(34)} val ${r.valLoss?.toFixed(4) ?? '-'}  ${r.wallSeconds === null ? '' : `${r.wallSeconds.toFixed(1)} s`}`,
      );
    }
    if (fit) {
      io.out(
        `Fitted E = ${fit.law.E.toPrecision(3)} ${formatInterval(fit.ci95?.E ?? null, fit.unbounded.E)}${formatKnownFloor(fit.law.E, floor)}, α = ${fit.law.alpha.toFixed(3)}, β = ${fit.law.beta.toFixed(3)}, a = ${fit.law.a.toFixed(3)}` +
          (fit.isoflop ? ` (IsoFLOP profiles: a = ${fit.isoflop.a.toFixed(3)})` : ''),
      );
      io.out(
        `${fit.warnings.length === 0 ? 'No warnings' : `${fit.warnings.length} warning${fit.warnings.length === 1 ? '' : 's'}`}; the three approaches side by side and a backtest: isoflop fit ${sweepId} --holdout-largest`,
      );
    }
  }
  return runs.some((r) => r.status === 'failed') ? 1 : 0;
}
