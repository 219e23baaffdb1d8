import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { SearchSpace, studyParameters } from '../../../src-shared/contract';
import { type Space, validateSpace } from '../../../src-shared/science/search';
import { ensureDemos } from '../../store/datasets/demos/demos';
import { nodeBackendOrder } from '../../training/node-backends';
import { runStudy } from '../../training/study';
import { bestTrial, runsLeft, type StudyStores } from '../../usecases/studies';
import {
  apiOf,
  backendOption,
  backendOptionSpec,
  backendUsage,
  type Command,
  choiceOption,
  intOption,
  numberOption,
  storeOption,
  stringOption,
  UsageError,
} from '../command';
import { endWithParent, jobsFor, passWithJobs, startJobs } from '../jobs';

/**
 * `isoflop tune`: a study of MLP hyper-parameters on a table dataset, kept in `<data>/studies/` (the app's
 * Studies view shows it). Each trial is a run in the store; the median rule or ASHA stops poor trials early.
 */

export const tune: Command = {
  summary: 'Search hyper-parameters (grid, random or TPE) with median or ASHA pruning; each trial is a run',
  usage:
    `isoflop tune --dataset ID --space space.json --sampler grid|random|tpe --trials N [--steps S] [--pruner median|asha|none] [--seed S] ${backendUsage} [--store DIR] [--json]\n` +
    `       isoflop tune --resume STUDY-ID ${backendUsage} [--jobs N] [--store DIR] [--json]\n` +
    '  --jobs N: N processes train trials at once, each taking the next trial none has (TPE counts the trials still\n' +
    '  training as bad, so they spread out). By default (or ISOFLOP_JOBS=auto) one per core on WASM and the CPU, as\n' +
    '  many as memory holds; one on a GPU.\n' +
    `  space.json maps ${studyParameters.join(', ')} to {"type": "log"|"float"|"int", "min": x, "max": y} or {"type": "choice", "values": [...]}.`,
  options: {
    ...storeOption,
    ...backendOptionSpec,
    dataset: { type: 'string' },
    space: { type: 'string' },
    sampler: { type: 'string' },
    trials: { type: 'string' },
    steps: { type: 'string' },
    pruner: { type: 'string' },
    seed: { type: 'string' },
    resume: { type: 'string' },
    jobs: { type: 'string' },
    /** a --jobs worker: trains trials of --resume's study and prints no summary (the command that started it does) */
    worker: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(values, _positionals, io) {
    if (values.worker) endWithParent();
    const api = apiOf(values, io);
    const backend = await backendOption(values);
    const stores: StudyStores = api.app;
    let studyId = stringOption(values, 'resume');
    if (!studyId) {
      const datasetId = stringOption(values, 'dataset');
      const spacePath = stringOption(values, 'space');
      if (!datasetId || !spacePath) throw new UsageError('tune needs --dataset ID and --space space.json');
      let space: SearchSpace;
      try {
        space = SearchSpace.parse(JSON.parse(await readFile(spacePath, 'utf8')));
        validateSpace(space as Space);
      } catch (error) {
        const message =
          error instanceof z.ZodError
            ? `${error.issues[0]?.path.join('.') ?? ''} ${error.issues[0]?.message ?? 'invalid'}`.trim()
            : (error as Error).message;
        throw new UsageError(`${spacePath}: ${message}`);
      }
      if (datasetId.startsWith('demo-')) await ensureDemos(stores.datasets);
      const number = (name: string) => numberOption(values, name, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
      // Through the router: the contract's limits and the study's checks answer, naming the flags.
      const study = await api.call(
        'studies.create',
        {
          datasetId,
          space,
          sampler: choiceOption(values, 'sampler', ['grid', 'random', 'tpe'] as const) ?? 'tpe',
          pruner: choiceOption(values, 'pruner', ['median', 'asha', 'none'] as const) ?? 'median',
          trials: number('trials') ?? 20,
          steps: number('steps') ?? 300,
          seed: number('seed') ?? 1,
        },
        { datasetId: '--dataset', space: spacePath, trials: '--trials', steps: '--steps', seed: '--seed' },
      );
      studyId = study.id;
    }
    const id = studyId;
    const given = intOption(values, 'jobs', 1, 64);
    // A job process trains alone; otherwise --jobs, ISOFLOP_JOBS or what this machine allows.
    const { jobs, why } = values.worker
      ? { jobs: 1, why: null }
      : jobsFor(
          given,
          io.env,
          (await nodeBackendOrder(backend))[0] ?? 'wasm',
          await runsLeft(stores, await stores.studies.get(id)),
        );
    const workers = values.worker
      ? null
      : startJobs(
          jobs,
          why,
          ['tune', '--resume', id, '--worker', '--store', api.app.dataDir, ...(backend ? ['--backend', backend] : [])],
          io,
          ', each taking the next trial none has',
        );
    const train = () =>
      runStudy(stores, id, {
        backend,
        onTrial: (trial, study) =>
          io.err(
            `trial ${trial.number}/${study.trialsPlanned}: ${trial.state}${trial.value !== null ? ` ${trial.value.toFixed(5)}` : ''}  ${JSON.stringify(trial.params)}`,
          ),
      });
    await passWithJobs(workers, io, train);
    if (values.worker) return 0;
    const held = (await stores.studies.get(id)).trials.filter((t) => t.state === 'running');
    if (held.length > 0)
      io.err(
        `${held.length} trial${held.length === 1 ? ' is' : 's are'} still training in another process (${held.map((t) => t.number).join(', ')}): the best below is of the trials finished so far; tune --resume ${id} shows the rest once they end.`,
      );
    const study = await stores.studies.get(studyId);
    const best = bestTrial(study);
    const complete = study.trials.filter((t) => t.state === 'complete');
    const result = {
      studyId: study.id,
      sampler: study.sampler,
      pruner: study.pruner,
      trials: study.trials.map((t) => ({
        number: t.number,
        params: t.params,
        value: t.value,
        state: t.state,
        runId: t.runId,
        note: t.note,
      })),
      best: best ? { params: best.params, value: best.value, runId: best.runId, number: best.number } : null,
    };
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else if (best)
      io.out(
        `Best of ${study.trials.length} trials (${complete.length} complete): ${best.value?.toFixed(5)} with ${JSON.stringify(best.params)} [${best.runId}]`,
      );
    else io.out('No trial completed.');
    return 0;
  },
};
