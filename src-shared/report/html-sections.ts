import type { ReportData, StudyRecord } from '../contract';
import { formatMeanStd, formatParamValue } from '../format';
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
