import { formatCount, formatFlops, formatKnownFloor, formatSig } from '../../src-shared/format';
import type { FrontierAnalysis } from '../../src-shared/science/analysis';
import { approachInterval, budgetNotes, formatInterval } from '../../src-shared/science/diagnostics';

/** A fit as `isoflop fit` prints it: the law, how compute was counted, the three approaches, budgets, warnings. */

/** "1.00e+7, 3.00e+7" or, past six, "34 budgets from 1.40e+18 to 3.00e+21". */
const budgetList = (budgets: number[]) =>
  budgets.length > 6
    ? `${budgets.length} budgets from ${formatSig(budgets[0] as number)} to ${formatSig(budgets.at(-1) as number)}`
    : budgets.map(formatSig).join(', ');

export function analysisLines(
  analysis: FrontierAnalysis,
  context: { bootstrap: number; uniqueTokens: number | null; items: 'tokens' | 'rows' },
): string[] {
  const { law, ci95, isoflop, unbounded } = analysis;
  const lines: string[] = [];
  const counted = analysis.paramsCounted === 'total' ? 'total parameters' : 'non-embedding parameters (Kaplan et al.)';
  lines.push(
    `Fitted L(N, D) = E + A / N^α + B / D^β to ${analysis.n} runs, N = ${counted} (Huber δ = 1e-3 on log loss, L-BFGS from Chinchilla's grid` +
      (ci95 ? `; 95% intervals from ${context.bootstrap} bootstrap resamples within budgets):` : '):'),
  );
  for (const [name, key] of [
    ['E', 'E'],
    ['A', 'A'],
    ['B', 'B'],
    ['α', 'alpha'],
    ['β', 'beta'],
  ] as const) {
    const beside = key === 'E' ? formatKnownFloor(law.E, analysis.floor) : '';
    const interval = ci95 ? `  ${formatInterval(ci95[key], unbounded[key])}` : '';
    lines.push(`  ${name.padEnd(3)} ${law[key].toPrecision(4).padStart(10)}${interval}${beside}`);
  }
  lines.push(`Compute: ${analysis.compute.description}.`);
  lines.push('The three approaches (N* ∝ C^a, D* ∝ C^b):');
  if (analysis.approachOneMissing) lines.push(`  1  none: ${analysis.approachOneMissing}`);
  for (const row of analysis.approaches) {
    const name =
      row.approach === 2 && isoflop
        ? `${row.name} (${isoflop.budgets.length} budgets, ${isoflop.runsUsed} of ${analysis.n} runs, by ${isoflop.groupedBy})`
        : row.name;
    lines.push(
      `  ${row.approach}  a = ${formatSig(row.a).padStart(6)} ${approachInterval(row, 'a', unbounded).padEnd(18)} b = ${formatSig(row.b).padStart(6)} ${approachInterval(row, 'b', unbounded).padEnd(18)} ${name}`,
    );
  }
  if (isoflop) {
    lines.push(
      `IsoFLOP profiles (${isoflop.budgets.length} budgets, grouped by ${isoflop.groupedBy}): a = ${isoflop.a.toFixed(3)}, b = ${isoflop.b.toFixed(3)}`,
    );
    for (const budget of isoflop.budgets) {
      const valley =
        budget.params === null
          ? 'the losses do not curve upwards: no vertex'
          : `N* ≈ ${formatCount(budget.params)} ${formatInterval(budget.paramsCi95)}`;
      const edge = budget.edge
        ? `; the lowest loss is at the ${budget.edge === 'smaller' ? 'smallest' : 'largest'} size: add ${budget.suggestedParams.map(formatCount).join(' and ')} parameters`
        : '';
      lines.push(`  ${formatFlops(budget.flops)} FLOPs, ${budget.runs.length} runs: ${valley}${edge}`);
    }
  } else lines.push(`IsoFLOP profiles: none; ${analysis.isoflopMissing}.`);
  const backtest = analysis.backtest;
  if (backtest) {
    lines.push(
      `Backtest (fitted on ${budgetList(backtest.fittedOn)} FLOPs, held out ${formatSig(backtest.heldOutBudget)}): ` +
        `loss error ${backtest.meanAbsLossErrorPct.toFixed(2)}% mean absolute over ${backtest.runs.length} runs; ` +
        `N* predicted ${formatCount(backtest.nStarPredicted)} against ${formatCount(backtest.nStarObserved)} from the ${backtest.nStarObservedFrom} (ratio ${backtest.nStarRatio.toFixed(2)}); ` +
        `E ${formatSig(backtest.heldOutFit.E)}, α ${formatSig(backtest.heldOutFit.alpha)}, β ${formatSig(backtest.heldOutFit.beta)} against the full fit's ${formatSig(backtest.fullFit.E)}, ${formatSig(backtest.fullFit.alpha)}, ${formatSig(backtest.fullFit.beta)}` +
        (backtest.flagged ? ' (FLAGGED: the law does not predict its largest budget)' : ''),
    );
  }
  for (const allocation of analysis.allocation) {
    lines.push(
      `At ${formatFlops(allocation.flops)} FLOPs: N* = ${formatCount(allocation.params)} ${formatInterval(allocation.paramsCi95 && [allocation.paramsCi95[0], allocation.paramsCi95[1]])}, ` +
        `D* = ${formatCount(allocation.tokens)} ${context.items}, ${allocation.tokensPerParam.toFixed(1)} ${context.items} per parameter, predicted loss ${allocation.loss.toFixed(3)}` +
        (allocation.lossCi95
          ? ` (95% interval ${allocation.lossCi95[0].toFixed(3)} to ${allocation.lossCi95[1].toFixed(3)})`
          : ''),
    );
    for (const note of budgetNotes(
      allocation.flops,
      allocation.tokens,
      analysis.largestFlops,
      context.uniqueTokens,
      context.items,
    ))
      lines.push(`  ${note}`);
  }
  if (analysis.warnings.length > 0) {
    lines.push('Warnings:');
    for (const warning of analysis.warnings) lines.push(`  - ${warning}`);
  } else lines.push('Warnings: none.');
  return lines;
}
