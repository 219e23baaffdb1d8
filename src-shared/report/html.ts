import type { ReportData } from '../contract/report';
import { formatCount, formatFlops, formatRatio, formatSig } from '../format';
import { contourLevels, efficientFrontier, isoLossContours } from '../science/contours';
import { formatInterval } from '../science/diagnostics';
import { optimumBand } from './frontier-charts';
import { crossValidationSection, fitDetails, studySection } from './html-sections';
import { type ChartSeries, type ChartSpec, escapeHtml, renderChart } from './svg';
import { isoflopProfileSeries } from './sweep-charts';

/** Report data -> one self-contained HTML page: inline CSS and SVG, no scripts, no network. */

const palette = ['#3b528b', '#21918c', '#5ec962', '#c8b100', '#e07b00', '#b5179e'];
const sig = (n: number | null | undefined, digits = 4) => {
  if (n === null || n === undefined) return '—';
  const magnitude = Math.abs(n);
  return magnitude !== 0 && (magnitude >= 1e5 || magnitude < 1e-3)
    ? n.toExponential(digits - 1)
    : Number(n.toPrecision(digits)).toString();
};

/** A chart as a report figure: its title as the caption, the SVG, and its series' legend. */
function figure(spec: ChartSpec): string {
  const items = spec.series
    .filter((s) => s.legend !== false && s.label)
    .map((s) => `<li><span class="${s.kind}" style="background:${s.color}"></span>${escapeHtml(s.label)}</li>`)
    .join('');
  return `<figure><figcaption>${escapeHtml(spec.title)}</figcaption>${renderChart(spec)}<ul class="legend">${items}</ul></figure>`;
}

export function renderReportHtml(report: ReportData): string {
  const completed = report.runs.filter((r) => r.finalValLoss !== null);
  const isoSeries = isoflopProfileSeries(
    report.sweep.budgetsFlops.map((flops) => ({
      flops,
      runs: completed
        .filter((r) => r.budgetFlops === flops)
        .map((r) => ({ params: r.params, loss: r.finalValLoss as number })),
    })),
  );
  const charts: string[] = [];
  // A study's trials and a cross-validation's folds are not a sweep over sizes: no IsoFLOP profiles for them.
  const folds = report.crossValidations.reduce((n, cv) => n + cv.folds.length, 0);
  const sizeSweep = report.sweep.scope !== 'study' && folds < report.runs.length;
  if (completed.length > 0 && sizeSweep) {
    charts.push(
      figure({
        title: "IsoFLOP profiles: final validation loss against parameters, with each budget's fitted parabola",
        xLabel: 'parameters N',
        yLabel: 'validation loss',
        series: isoSeries,
      }),
    );
  }
  if (report.fit) {
    const fit = report.fit;
    const curve = fit.optimumCurve;
    const frontier: ChartSeries[] = [
      ...optimumBand(curve, 'params', '#4f46e5', 'N*: 95% interval of the bootstrap fits'),
      ...optimumBand(curve, 'tokens', '#e07b00', 'D*: 95% interval'),
      {
        label: 'N*(C), parametric fit',
        color: '#4f46e5',
        kind: 'line',
        points: curve.map((p) => ({ x: p.flops, y: p.params })),
      },
      {
        label: 'D*(C)',
        color: '#e07b00',
        kind: 'line',
        dashed: true,
        points: curve.map((p) => ({ x: p.flops, y: p.tokens })),
      },
      {
        label: 'the budget in the summary',
        color: '#dc2626',
        kind: 'points',
        size: 5,
        points: [{ x: fit.allocation.flops, y: fit.allocation.params }],
      },
    ];
    charts.push(
      figure({
        title: 'Compute-optimal parameters N* and tokens D* against compute',
        xLabel: 'training FLOPs C',
        yLabel: 'N* (parameters), D* (tokens)',
        yLog: true,
        series: frontier,
      }),
    );
  }
  if (report.fit && completed.length > 0) {
    const law = report.fit;
    const ns = completed.map((r) => r.params);
    const ds = completed.map((r) => r.tokens as number);
    const levels = contourLevels(
      law,
      completed.map((r) => r.finalValLoss as number),
    );
    const shades = ['#c7d2fe', '#a5b4fc', '#818cf8', '#6366f1', '#4338ca'];
    const flops = completed.map((r) => r.budgetFlops);
    const contours: ChartSeries[] = [
      ...isoLossContours(law, [Math.min(...ns) / 3, Math.max(...ns) * 3], levels, 60, [
        Math.min(...ds) / 30,
        Math.max(...ds) * 30,
      ]).map((c, i) => ({
        label: `L = ${c.loss}`,
        color: shades[i % shades.length] as string,
        kind: 'line' as const,
        points: c.points,
      })),
      {
        label: 'compute-optimal frontier',
        color: '#dc2626',
        kind: 'line',
        points: efficientFrontier(law, [Math.min(...flops) / 3, Math.max(...flops) * 3], 30, law.compute),
      },
      {
        label: 'runs',
        color: '#1b1e27',
        kind: 'points',
        size: 2.5,
        points: completed.map((r) => ({ x: r.params, y: r.tokens as number })),
      },
    ];
    charts.push(
      figure({
        title: 'Iso-loss contours of the fitted law, with the efficient frontier and the runs',
        xLabel: 'parameters N',
        yLabel: 'tokens D',
        yLog: true,
        series: contours,
      }),
    );
  }
  const curveRuns = [...completed].sort((a, b) => (a.finalValLoss as number) - (b.finalValLoss as number)).slice(0, 4);
  if (curveRuns.length > 0) {
    const curves: ChartSeries[] = curveRuns.flatMap((run, i) => [
      {
        label: `${run.name}: validation${run.overfitting ? ' (over-fitting)' : ''}`,
        color: palette[i] as string,
        kind: 'line' as const,
        points: run.curve.filter((p) => p.valLoss !== null).map((p) => ({ x: p.tokens, y: p.valLoss as number })),
      },
      {
        label: '',
        color: palette[i] as string,
        kind: 'line' as const,
        dashed: true,
        legend: false,
        points: run.curve.map((p) => ({ x: p.tokens, y: p.trainLoss })),
      },
    ]);
    charts.push(
      figure({
        title: 'Learning curves of the four best runs (solid: validation, dashed: training)',
        xLabel: 'tokens (examples) seen',
        yLabel: 'loss',
        series: curves,
      }),
    );
  }
  const fit = report.fit;
  const lawRows = fit
    ? (['E', 'A', 'B', 'alpha', 'beta', 'a', 'b'] as const)
        .map(
          (key) =>
            `<tr><td>${{ E: 'E', A: 'A', B: 'B', alpha: 'α', beta: 'β', a: 'a (N* ∝ Cᵃ)', b: 'b (D* ∝ Cᵇ)' }[key]}</td><td class="num">${formatSig(fit[key])}</td><td class="num">${escapeHtml(formatInterval(fit.ci95?.[key] ?? null, fit.unbounded[key]))}</td></tr>`,
        )
        .join('')
    : '';
  const runRows = report.runs
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.status)}</td><td>${escapeHtml(r.name)}</td><td class="num">${formatCount(r.params)}</td><td class="num">${formatFlops(r.budgetFlops)}</td><td class="num">${r.flops === null ? '—' : formatFlops(r.flops)}</td><td class="num">${r.sixND === null ? '—' : formatFlops(r.sixND)}</td><td class="num">${r.tokensPerParam === null ? '—' : formatRatio(r.tokensPerParam)}</td><td class="num">${sig(r.finalValLoss)}</td><td>${r.verdict ?? '—'}${r.overfitting ? ', over-fitting' : ''}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(report.title)}</title>
<style>
  @page { margin: 18mm 16mm 20mm; }
  body { font-family: "DejaVu Sans", system-ui, sans-serif; color: #1b1e27; font-size: 10.5pt; line-height: 1.45; margin: 0; }
  h1 { font-size: 20pt; margin: 0 0 4pt; } h2 { font-size: 13pt; margin: 18pt 0 6pt; break-after: avoid; }
  .meta { color: #5d6375; font-size: 9pt; } .summary { font-size: 11.5pt; background: #eef0ff; border-left: 3pt solid #4f46e5; padding: 8pt 10pt; }
  table { border-collapse: collapse; width: 100%; font-size: 9pt; } th, td { text-align: left; padding: 3pt 6pt; border-bottom: 0.5pt solid #d9dce6; }
  th { color: #5d6375; } .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } tr { break-inside: avoid; }
  figure { margin: 10pt 0; break-inside: avoid; } figcaption { font-weight: 600; margin-bottom: 4pt; } svg { width: 100%; height: auto; }
  .legend { list-style: none; padding: 0; margin: 2pt 0 0; font-size: 8.5pt; color: #5d6375; display: flex; flex-wrap: wrap; gap: 2pt 12pt; }
  .legend span { display: inline-block; width: 9pt; height: 9pt; border-radius: 50%; margin-right: 4pt; vertical-align: -1pt; }
  .legend span.line { width: 14pt; height: 2.5pt; border-radius: 1pt; vertical-align: 2pt; }
  .legend span.band { width: 14pt; border-radius: 1pt; opacity: 0.3; }
  .title-page { break-after: page; } .note { color: #9a5b00; }
  code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; }
</style></head><body>
<section class="title-page">
  <h1>${escapeHtml(report.title)}</h1>
  <p class="meta">Dataset <strong>${escapeHtml(report.dataset.name)}</strong> (<code>${escapeHtml(report.dataset.id)}</code>, sha256 <code>${escapeHtml(report.dataset.sourceSha256.slice(0, 16))}…</code>) ·
  ${report.sweep.scope === 'runs' ? 'runs' : report.sweep.scope} <code>${escapeHtml(report.sweep.scope === 'runs' ? report.sweep.runIds.join(', ') : report.sweep.id)}</code> · ${escapeHtml(report.generatedAt.slice(0, 16).replace('T', ' '))} UTC · IsoFLOP ${escapeHtml(report.appVersion)} ·
  trained on ${escapeHtml(report.environment.backends.join(', ') || 'no backend recorded')}</p>
  <h2>Summary</h2>
  <p class="summary">${escapeHtml(report.summary)}</p>
  ${report.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('')}
  ${
    fit
      ? `<h2>Fitted law</h2><p>L(N, D) = E + A / N<sup>α</sup> + B / D<sup>β</sup>, from ${fit.runsUsed} runs. ${escapeHtml(fit.method)}</p>
  <table><thead><tr><th>Parameter</th><th class="num">Value</th><th class="num">95% interval</th></tr></thead><tbody>${lawRows}</tbody></table>
  ${fitDetails(fit, report.dataset.knownFloor)}`
      : ''
  }
</section>
<h2>Charts</h2>
${charts.join('\n')}
${studySection(report, figure)}
${crossValidationSection(report, figure)}
<h2>Runs</h2>
<table><thead><tr><th>Status</th><th>Run</th><th class="num">Params</th><th class="num">Budget (FLOPs)</th><th class="num">FLOPs spent</th><th class="num">6·N·D</th><th class="num">Tokens/param</th><th class="num">Val loss</th><th>Verdict</th></tr></thead><tbody>${runRows}</tbody></table>
<h2>Methods</h2>
${report.methods.map((m) => `<p>${escapeHtml(m)}</p>`).join('')}
</body></html>`;
}
