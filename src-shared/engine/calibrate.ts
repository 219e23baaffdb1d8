import type { BackendName, ModelSpec, PlannedRun } from '../contract';
import { Random } from '../random';
import { timeEngineSteps } from './bench';
import { RowSampler, TokenSampler } from './data';
import { familyOf } from './models/families';
import type { MeasuredThroughput } from './planner';
import { tf } from './tf';

/**
 * A first estimate of this machine's speed, for a plan made before any run has finished here: a few
 * steps of the plan's smallest and largest models, on random data of the dataset's shape, on the backend
 * that will train them. The two step times give the cost per step (dispatch: what small models pay) and
 * the FLOP rate (what large ones pay), the same model `measuredThroughput` fits to finished runs; the
 * first step (kernel compilation, model build) stands in for the cost per run. Evaluations are not
 * timed, so it is a lower bound of sorts: finished runs replace it.
 */
export interface Calibration extends Omit<MeasuredThroughput, 'runs'> {
  /** seconds the measurement took */
  seconds: number;
  /** the models timed: parameters, seconds per step */
  timed: Array<{ params: number; secondsPerStep: number; flopsPerStep: number }>;
}

const now = () => performance.now() / 1000;

function sampler(spec: ModelSpec, batchSize: number): TokenSampler | RowSampler {
  const random = new Random(7);
  if (spec.family === 'gpt') {
    const tokens = new Uint16Array(Math.max(1 << 14, 4 * (spec.contextLength + 2))).map(() =>
      random.int(spec.vocabSize),
    );
    return new TokenSampler(tokens, spec.contextLength, batchSize, 7);
  }
  const width = spec.inputs + 1;
  const rows = new Float32Array(4096 * width).map((_, i) =>
    i % width === spec.inputs && spec.task === 'classification' ? random.int(spec.outputs) : random.normal(),
  );
  return new RowSampler(rows, spec.inputs, batchSize, 7, spec.task === 'classification');
}

/**
 * Times the plan's smallest and largest runs' models for about `budgetSeconds` in all, on the backend
 * tfjs has now (the caller picks it). Needs a plan with at least one run.
 */
export async function calibrateSpeed(plan: PlannedRun[], batchSize: number, budgetSeconds = 4): Promise<Calibration> {
  if (plan.length === 0) throw new Error('There is nothing to time: the plan has no runs.');
  const started = now();
  const perStep = (run: PlannedRun) => run.budgetFlops / Math.max(1, run.steps);
  const sorted = [...plan].sort((a, b) => perStep(a) - perStep(b));
  // The same size at two budgets is one model to time.
  const picks = [sorted[0], sorted.at(-1)].filter(
    (run, i, all): run is PlannedRun => !!run && all.findIndex((other) => other?.params === run.params) === i,
  );
  const timed: Calibration['timed'] = [];
  let firstStepExtra = 0;
  for (const run of picks) {
    const model = familyOf(run.model).create(run.model, 1, batchSize);
    const data = sampler(run.model, batchSize);
    try {
      const first = await timeEngineSteps(model, data, batchSize, 1);
      const probe = await timeEngineSteps(model, data, batchSize, 2);
      const guess = Math.max(1e-4, probe / 2);
      const steps = Math.max(3, Math.min(200, Math.round(budgetSeconds / picks.length / 2 / guess)));
      const seconds = await timeEngineSteps(model, data, batchSize, steps);
      const each = seconds / steps;
      firstStepExtra = Math.max(firstStepExtra, first - each);
      timed.push({ params: run.params, secondsPerStep: each, flopsPerStep: perStep(run) });
    } finally {
      model.dispose();
    }
  }
  const [small, large] = [timed[0], timed.at(-1)] as [Calibration['timed'][number], Calibration['timed'][number]];
  // s = a + f / rate through both points; where the larger model is not slower per FLOP (or there is one
  // size), the step cost explains it all.
  const slope =
    large.flopsPerStep > small.flopsPerStep
      ? (large.secondsPerStep - small.secondsPerStep) / (large.flopsPerStep - small.flopsPerStep)
      : 0;
  let flopsPerSecond = slope > 0 ? 1 / slope : null;
  // No FLOP rate shows (one size, or the larger model no slower): the slower step time, to be safe.
  let secondsPerStep = flopsPerSecond
    ? small.secondsPerStep - small.flopsPerStep / flopsPerSecond
    : Math.max(small.secondsPerStep, large.secondsPerStep);
  if (secondsPerStep < 0) {
    // Timing noise put the line below the origin: FLOPs alone, at the larger model's rate.
    secondsPerStep = 0;
    flopsPerSecond = large.flopsPerStep / large.secondsPerStep;
  }
  return {
    backend: tf.getBackend() as BackendName,
    secondsPerRun: Math.max(0, firstStepExtra),
    secondsPerStep,
    flopsPerSecond,
    seconds: now() - started,
    timed,
  };
}
