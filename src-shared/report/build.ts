import type { DatasetManifest, MetricRow, ReportData, RunRecord, StudyRecord } from '../contract';
import {
  formatCount,
  formatFlops,
  formatKnownFloor,
  formatMeanStd,
  formatParams,
  formatRatio,
  formatSig,
} from '../format';
import { analyzeRuns } from '../science/analysis';
import { summariseFolds } from '../science/cross-validation';
import { budgetNotes } from '../science/diagnostics';
import { optimumCurve } from '../science/frontier';
import { detectOverfitting } from '../science/overfit';
import { datasetContext, observeRuns } from '../science/run-observations';

/**
 * Report data from a sweep (or runs chosen by hand), its runs and their metrics: the fit is computed here,
 * once, for both formats.
 */

export interface ReportSubject {
  scope: 'sweep' | 'runs' | 'study';
  id: string;
  name: string;
  budgets: number[];
}

export interface ReportInput {
  sweep: ReportSubject;
  runs: Array<{ run: RunRecord; metrics: MetricRow[] }>;
  dataset: DatasetManifest;
  appVersion: string;
  /** the budget the summary speaks about; the largest swept budget when omitted */
  budget?: number;
  bootstrap?: number;
  /** scope "study": the study whose trials the runs are */
  study?: StudyRecord;
}

function studyBlock(study: StudyRecord): NonNullable<ReportData['study']> {
  let best: NonNullable<ReportData['study']>['best'] = null;
  for (const t of study.trials) {
    if (t.state === 'complete' && t.value !== null && (best === null || t.value < best.value)) {
      best = { number: t.number, value: t.value, params: t.params };
    }
  }
  return {
    id: study.id,
    name: study.name,
    sampler: study.sampler,
    pruner: study.pruner,
    objective: study.objective,
    stepsPerTrial: study.steps,
    trialsPlanned: study.trialsPlanned,
    space: study.space,
    trials: study.trials.map(({ number, state, value, params, runId, note }) => ({
      number,
      state,
      value,
      params,
      runId,
      note,
    })),
    best,
  };
}

/** The cross-validations whose folds are among the runs, each summarised over its folds. */
function crossValidations(runs: ReportInput['runs']): ReportData['crossValidations'] {
  const byId = new Map<string, ReportInput['runs']>();
  for (const entry of runs) {
    const id = entry.run.cvId;
    if (id) byId.set(id, [...(byId.get(id) ?? []), entry]);
  }
  return [...byId].map(([cvId, folds]) => ({ cvId, ...summariseFolds(folds) }));
}

/** The peak learning rate of each size: one for all, or tuned per size before the sweep (Porian et al. 2024). */
function learningRateSentence(runs: RunRecord[]): string {
  const bySize = new Map<number, number>();
  for (const run of runs) bySize.set(run.params.total, run.config.peakLearningRate);
  const rates = [...new Set(bySize.values())];
  if (rates.length <= 1)
    return `Every size trained at one peak learning rate (${rates[0]?.toExponential(1) ?? '—'}), warmup 5% of each run's steps, then cosine decay. Porian et al. (2024) found that one rate for all sizes biases the fitted exponent a; isoflop sweep --tune-lr tunes it per size.`;
  const list = [...bySize]
    .sort(([x], [y]) => x - y)
    .map(([params, rate]) => `${formatCount(params)} parameters ${rate.toExponential(1)}`)
    .join('; ');
  return `Peak learning rate per size, tuned before the sweep by a grid search at the smallest budget: ${list}. Warmup is 5% of each run's steps, then cosine decay.`;
}

export function buildReport(input: ReportInput): ReportData {
  const { sweep, runs, dataset } = input;
  const notes: string[] = [];
  const completed = runs.filter(({ run }) => run.status === 'completed' && run.result?.valLoss != null);
  const unfinished = runs.filter(
    ({ run }) => run.status === 'running' || run.status === 'queued' || run.status === 'interrupted',
  );
  if (unfinished.length > 0)
    notes.push(
      `${unfinished.length} of ${runs.length} runs had not finished when this report was made; it shows what exists.`,
    );
  // The budget the summary speaks of: the one asked about, else the largest the sweep trained (no extrapolation).
  const budget = input.budget ?? Math.max(...sweep.budgets);
  const budgetSource =
    input.budget === undefined ? ' (the largest budget the runs trained at; an export can ask about another)' : '';
  const observations = observeRuns(completed.map(({ run }) => run));
  const context = datasetContext(dataset);
  // A study's trials and a cross-validation's folds vary hyper-parameters or data, not size and tokens under
  // a budget: no scaling law is fitted to them.
  const fitted = sweep.scope !== 'study' && !runs.every(({ run }) => run.cvId !== null);
  const analysis =
    fitted && observations.length >= 5
      ? analyzeRuns(observations, {
          bootstrap: input.bootstrap ?? 200,
          seed: 1,
          budgets: [budget],
          holdoutLargest: true,
          floor: context.floor,
          uniqueTokens: context.uniqueTokens,
        })
      : null;
  if (!analysis && fitted)
    notes.push(`Only ${completed.length} runs completed; a scaling-law fit needs at least 5, so none is shown.`);
  const allocation = analysis?.allocation[0];

  const reportRuns = runs.map(({ run, metrics }) => {
    const fitted = analysis?.runs[completed.findIndex((entry) => entry.run === run)];
    const verdict = fitted?.verdict ?? null;
    const points = metrics
      .filter((m) => m.valLoss !== null)
      .map((m) => ({ step: m.step, trainLoss: m.trainLoss, valLoss: m.valLoss as number }));
    return {
      id: run.id,
      name: run.name,
      status: run.status,
      params: run.params.total,
      budgetFlops: run.config.budgetFlops,
      flops: run.result?.flops ?? null,
      sixND: run.result ? 6 * run.params.total * run.result.tokens : null,
      tokens: run.result?.tokens ?? null,
      tokensPerParam: run.result ? run.result.tokens / run.params.total : null,
      finalValLoss: run.result?.valLoss ?? null,
      bestValLoss: run.result?.bestValLoss ?? null,
      verdict,
      overfitting: detectOverfitting(points).overfitting,
      backend: run.environment?.backend ?? null,
      config: run.config as unknown as Record<string, unknown>,
      curve: metrics.map((m) => ({ step: m.step, tokens: m.tokens, trainLoss: m.trainLoss, valLoss: m.valLoss })),
    };
  });

  const study = input.study ? studyBlock(input.study) : null;
  const cvs = crossValidations(runs);
  let summary: string;
  if (study) {
    const pruned = study.trials.filter((t) => t.state === 'pruned').length;
    const complete = study.trials.filter((t) => t.state === 'complete').length;
    summary = study.best
      ? `Of ${study.trials.length} trials (${complete} complete, ${pruned} pruned by the ${study.pruner === 'asha' ? 'ASHA' : study.pruner} pruner) of a ${study.sampler} search on ${dataset.name}, ` +
        `trial ${study.best.number} trained best: best validation loss ${study.best.value.toFixed(5)} with ${formatParams(study.best.params)}.`
      : `None of the study's ${study.trials.length} trials on ${dataset.name} has completed yet.`;
    if (study.trials.length < study.trialsPlanned || study.trials.some((t) => t.state === 'running')) {
      notes.push(
        `The study had run ${study.trials.length} of ${study.trialsPlanned} trials when this report was made.`,
      );
    }
  } else if (analysis && allocation) {
    const overtrained = reportRuns.filter((r) => r.verdict === 'over-trained').map((r) => r.name);
    const ci = allocation.tokensPerParamCi95;
    summary =
      `For ${formatFlops(budget)} FLOPs${budgetSource} on ${dataset.name} the compute-optimal model has about ${formatCount(allocation.params)} parameters ` +
      `trained on ${formatCount(allocation.tokens)} ${dataset.kind === 'table' ? 'rows' : 'tokens'}, i.e. ${formatRatio(allocation.tokensPerParam)} per parameter` +
      `${ci ? ` (95% interval ${formatRatio(ci[0])} to ${formatRatio(ci[1])})` : ''}, with a predicted loss of ${allocation.loss.toFixed(4)}` +
      `${allocation.lossCi95 ? ` (${allocation.lossCi95[0].toFixed(4)} to ${allocation.lossCi95[1].toFixed(4)})` : ''}. ` +
      (analysis.unbounded.E === 'both'
        ? `The runs do not identify the irreducible loss E: the fit put it at its lower bound, 0${context.floor ? `, where the data's known floor is ${context.floor.loss.toFixed(3)}` : ''}; add a larger budget. `
        : `The fitted irreducible loss is E = ${formatSig(analysis.law.E)}${formatKnownFloor(analysis.law.E, context.floor)}. `) +
      budgetNotes(budget, allocation.tokens, analysis.largestFlops, context.uniqueTokens, context.items)
        .map((note) => `${note} `)
        .join('') +
      (overtrained.length > 0
        ? `${overtrained.length} ${overtrained.length === 1 ? 'run is' : 'runs are'} over-trained for their budget: ${overtrained.slice(0, 4).join(', ')}${overtrained.length > 4 ? ` and ${overtrained.length - 4} more` : ''}.`
        : 'No run is over-trained for its budget.');
  } else {
    const folds = cvs[0];
    summary = folds?.bestValLoss
      ? `${folds.k}-fold cross-validation on ${dataset.name}: best validation loss ${formatMeanStd(folds.bestValLoss, 5)} (mean ± sample std over ${folds.completed} folds)${folds.valAccuracy ? `, validation accuracy ${formatMeanStd(folds.valAccuracy, 4)}` : ''}.`
      : `This ${sweep.scope === 'sweep' ? 'sweep' : 'selection'} has ${completed.length} completed run${completed.length === 1 ? '' : 's'} over ${dataset.name}; too few to fit a scaling law (at least 5 are needed).`;
  }

  return {
    reportVersion: 1,
    generatedAt: new Date().toISOString(),
    appVersion: input.appVersion,
    title: `IsoFLOP report: ${sweep.name}`,
    dataset: {
      id: dataset.id,
      name: dataset.name,
      kind: dataset.kind,
      sourceSha256: dataset.source.sha256,
      trainItems: dataset.kind === 'table' ? dataset.splits.train.rows : dataset.splits.train.tokens,
      irreducibleLoss: context.floor?.kind === 'noise' ? context.floor.loss : null,
      knownFloor: context.floor,
    },
    sweep: {
      scope: sweep.scope,
      id: sweep.id,
      name: sweep.name,
      budgetsFlops: sweep.budgets,
      runIds: runs.map(({ run }) => run.id),
    },
    environment: {
      backends: [
        ...new Set(
          runs.map(({ run }) => run.environment?.backend).filter((b): b is NonNullable<typeof b> => Boolean(b)),
        ),
      ],
      platforms: [...new Set(runs.map(({ run }) => run.environment?.platform).filter((p): p is string => Boolean(p)))],
    },
    summary,
    notes,
    fit:
      analysis && allocation
        ? {
            runsUsed: analysis.n,
            method: `Chinchilla approach 3: Huber loss (δ = 1e-3) on log loss, L-BFGS from Chinchilla's grid of starts; 95% intervals from ${input.bootstrap ?? 200} bootstrap resamples of the runs within each budget (seed 1, as the app's Frontier).`,
            E: analysis.law.E,
            A: analysis.law.A,
            B: analysis.law.B,
            alpha: analysis.law.alpha,
            beta: analysis.law.beta,
            a: analysis.law.a,
            b: analysis.law.b,
            ci95: analysis.ci95 as Record<string, [number, number]> | null,
            unbounded: analysis.unbounded,
            params: analysis.paramsCounted,
            compute: {
              ...analysis.compute.model,
              measure: analysis.compute.measure,
              description: analysis.compute.description,
            },
            approaches: analysis.approaches,
            backtest: analysis.backtest && {
              heldOutBudget: analysis.backtest.heldOutBudget,
              fittedOn: analysis.backtest.fittedOn,
              meanAbsLossErrorPct: analysis.backtest.meanAbsLossErrorPct,
              nStarPredicted: analysis.backtest.nStarPredicted,
              nStarObserved: analysis.backtest.nStarObserved,
              nStarRatio: analysis.backtest.nStarRatio,
              flagged: analysis.backtest.flagged,
              verdict: analysis.backtest.verdict,
            },
            warnings: analysis.warnings,
            budgetNotes: budgetNotes(
              budget,
              allocation.tokens,
              analysis.largestFlops,
              context.uniqueTokens,
              context.items,
            ),
            optimumCurve: optimumCurve(
              analysis.law,
              analysis.bootstrapLaws,
              [Math.min(...sweep.budgets) / 3, Math.max(budget, ...sweep.budgets) * 3],
              analysis.compute.model,
            ),
            allocation,
            isoflop: analysis.isoflop
              ? {
                  a: analysis.isoflop.a,
                  b: analysis.isoflop.b,
                  aCi95: analysis.isoflop.aCi95,
                  bCi95: analysis.isoflop.bCi95,
                  groupedBy: analysis.isoflop.groupedBy,
                  runsUsed: analysis.isoflop.runsUsed,
                }
              : null,
          }
        : null,
    runs: reportRuns,
    study,
    crossValidations: cvs,
    methods: [
      dataset.kind === 'table'
        ? 'Training FLOPs are counted layer by layer: each dense layer of the MLP costs 2·in·out per example forward, and training = 3 × forward.'
        : 'Training FLOPs are counted per Hoffmann et al. (2022), appendix F: embeddings, attention (QKV, logits, softmax, softmax·V, output projection), dense blocks and final logits; training = 3 × forward.',
      `One measure of compute throughout: ${analysis ? analysis.compute.description : 'each run records the exact training FLOPs it spent'}. Approach 2 groups runs by the budget they were planned for; verdicts, the over-training cost and the budget in the summary use the same C. Each run lists its exact FLOPs and 6·N·D in the JSON report.`,
      `Parameters are counted from the configuration and checked against the actual weights; N in the fit is the ${analysis?.paramsCounted === 'nonEmbedding' ? 'non-embedding count (Kaplan et al.)' : 'total count, embeddings included (Chinchilla)'}.`,
      `${dataset.kind === 'table' ? 'Rows' : 'Tokens'} D are what each run trained on; each run was planned to spend its budget exactly under the FLOP count above.`,
      learningRateSentence(runs.map(({ run }) => run)),
      "The backtest fits the law without the largest budget and predicts that budget: its runs' losses and its optimal size, against what its runs show.",
      'Validation loss is measured on fixed batches of the validation split; over-fitting is flagged when it rises above its running minimum (trailing mean of 3 evaluations) by more than 1% for 5 evaluations while training loss keeps falling.',
    ],
  };
}
