import type { ReportData, StudyRecord } from '../contract';
import { formatFlops, formatKnownFloor, formatMeanStd, formatParamValue, formatSig } from '../format';
import { approachInterval } from '../science/diagnostics';
import { renderParallelCoordinates } from './parallel';
import { bestSoFarSeries, parallelSpec } from './study-charts';
import { type ChartSeries, type ChartSpec, escapeHtml } from './svg';

/** The report's study and cross-validation sections: HTML strings built from the report data. */

type Figure = (spec: ChartSpec) => string;

const value = (v: number | string | undefined) => escapeHtml(formatParamValue(v));

export function studySection(report: ReportData, figure: Figure): string {
  const study = report.study;
  if (!study) return '';
  // The charts take a study record; the report holds what they read of it.
  const record = {
    ...study,
    steps: study.stepsPerTrial,
    trials: study.trials.map((t) => ({ ...t, intermediate: [] })),
  };
  const asRecord = record as unknown as StudyRecord;
  const names = Object.keys(study.space);
  const best = bestSoFarSeries(asRecord);
  const parts = [
    `<h2>Hyper-parameter study</h2>`,
    `<p>${escapeHtml(study.name)}: ${escapeHtml(study.sampler)} sampler, ${escapeHtml(study.pruner)} pruner, ${study.trials.length} of ${study.trialsPlanned} trials of ${study.stepsPerTrial} steps each; the objective is each trial's ${escapeHtml(study.objective)}.</p>`,
  ];
  if (study.trials.some((t) => t.state === 'complete')) {
    parts.push(
      figure({
        title: "Best so far: each trial's value and the best up to it",
        xLabel: 'trial',
        yLabel: 'best validation loss',
        xLog: false,
        series: best,
      }),
    );
    if (study.trials.filter((t) => t.state === 'complete').length > 1) {
      const spec = parallelSpec(asRecord);
      parts.push(
        `<figure><figcaption>Parallel coordinates: each line a complete trial, darker is better</figcaption>${renderParallelCoordinates(spec)}</figure>`,
      );
    }
  }
  const rows = study.trials
    .map(
      (t) =>
        `<tr><td class="num">${t.number}</td><td>${escapeHtml(t.state)}</td><td class="num">${t.value === null ? '—' : t.value.toFixed(5)}</td>${names.map((n) => `<td class="num">${value(t.params[n])}</td>`).join('')}<td>${escapeHtml(t.note ?? '')}</td></tr>`,
    )
    .join('');
  parts.push(
    `<table><thead><tr><th class="num">Trial</th><th>State</th><th class="num">Value</th>${names.map((n) => `<th class="num">${escapeHtml(n)}</th>`).join('')}<th>Note</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
  return parts.join('\n');
}

export function crossValidationSection(report: ReportData, figure: Figure): string {
  return report.crossValidations
    .map((cv) => {
      const band: ChartSeries[] = [
        {
          label: `mean ± std over ${cv.completed} folds`,
          color: '#1b1e27',
          kind: 'band',
          points: cv.band.map((b) => ({ x: b.step, y: b.mean - b.std })),
          upper: cv.band.map((b) => ({ x: b.step, y: b.mean + b.std })),
        },
        {
          label: 'mean',
          color: '#1b1e27',
          kind: 'line',
          dashed: true,
          points: cv.band.map((b) => ({ x: b.step, y: b.mean })),
        },
      ];
      const rows = cv.folds
        .map(
          (f) =>
            `<tr><td>${f.index + 1}</td><td>${escapeHtml(f.status)}</td><td class="num">${f.bestValLoss?.toFixed(5) ?? '—'}</td><td class="num">${f.valAccuracy?.toFixed(4) ?? '—'}</td></tr>`,
        )
        .join('');
      return [
        `<h2>Cross-validation <code>${escapeHtml(cv.cvId)}</code></h2>`,
        `<p>${cv.completed} of ${cv.k} folds completed. Best validation loss ${formatMeanStd(cv.bestValLoss, 5)}${cv.valAccuracy ? `, validation accuracy ${formatMeanStd(cv.valAccuracy, 4)}` : ''} (mean ± sample standard deviation over folds). The folds deal the training and validation rows; the test rows stay unseen.</p>`,
        cv.band.length > 0
          ? figure({
              title: `Validation loss across the ${cv.k} folds: mean ± std`,
              xLabel: 'step',
              yLabel: 'validation loss',
              xLog: false,
              series: band,
            })
          : '',
        `<table><thead><tr><th>Fold</th><th>Status</th><th class="num">Best val loss</th><th class="num">Val accuracy</th></tr></thead><tbody>${rows}</tbody></table>`,
      ].join('\n');
    })
    .join('\n');
}

/** Under the fitted law: how compute was counted, the three approaches side by side, the backtest, the warnings. */
export function fitDetails(fit: NonNullable<ReportData['fit']>, floor: ReportData['dataset']['knownFloor']): string {
  const approaches = fit.approaches
    .map(
      (row) =>
        `<tr><td>${row.approach}</td><td>${escapeHtml(row.name)}</td><td class="num">${formatSig(row.a)}</td><td class="num">${escapeHtml(approachInterval(row, 'a', fit.unbounded))}</td><td class="num">${formatSig(row.b)}</td><td class="num">${escapeHtml(approachInterval(row, 'b', fit.unbounded))}</td></tr>`,
    )
    .join('');
  const backtest = fit.backtest;
  const parts = [
    floor ? `<p>E = ${formatSig(fit.E)}${escapeHtml(formatKnownFloor(fit.E, floor))}.</p>` : '',
    `<p>Compute: ${escapeHtml(fit.compute.description)}. ${fit.isoflop ? `Approach 2 used ${fit.isoflop.runsUsed} of ${fit.runsUsed} runs, grouped by ${escapeHtml(fit.isoflop.groupedBy)}.` : ''}</p>`,
    '<h2>The three approaches</h2>',
    `<table><thead><tr><th>Approach</th><th>Method</th><th class="num">a (N* ∝ Cᵃ)</th><th class="num">95% interval</th><th class="num">b (D* ∝ Cᵇ)</th><th class="num">95% interval</th></tr></thead><tbody>${approaches}</tbody></table>`,
    backtest
      ? `<h2>Backtest</h2><p>Fitted on ${backtest.fittedOn.length > 6 ? `${backtest.fittedOn.length} budgets from ${formatFlops(backtest.fittedOn[0] as number)} to ${formatFlops(backtest.fittedOn.at(-1) as number)}` : backtest.fittedOn.map(formatFlops).join(', ')} FLOPs and asked to predict ${formatFlops(backtest.heldOutBudget)} FLOPs: the held-out runs' loss is off by ${backtest.meanAbsLossErrorPct.toFixed(2)}% on average; N* predicted ${formatSig(backtest.nStarPredicted)} against ${formatSig(backtest.nStarObserved)} seen (ratio ${backtest.nStarRatio.toFixed(2)}). ${escapeHtml(backtest.verdict)}</p>`
      : '',
    fit.budgetNotes.length > 0 ? `<p class="note">${fit.budgetNotes.map(escapeHtml).join(' ')}</p>` : '',
    fit.warnings.length > 0
      ? `<h2>Warnings</h2><ul class="warnings">${fit.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
      : '<p>No warnings: the runs identify every parameter of the law.</p>',
  ];
  return parts.join('\n');
}
