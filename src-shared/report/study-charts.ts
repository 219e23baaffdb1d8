import type { StudyRecord } from '../contract';
import type { ParallelSpec } from './parallel';
import type { ChartSeries } from './svg';

/** What a study's charts show, from its record: the app's Studies view and reports draw the same. */

const colors = { complete: '#3b528b', pruned: '#b8bcc8', best: '#e07b00' };

/** Every complete trial's value against its number, and the best so far as a step line. */
export function bestSoFarSeries(study: StudyRecord): ChartSeries[] {
  const complete = study.trials.filter((t) => t.state === 'complete' && t.value !== null);
  const best: Array<{ x: number; y: number }> = [];
  let low = Number.POSITIVE_INFINITY;
  for (const t of complete) {
    if ((t.value as number) < low) {
      if (best.length > 0) best.push({ x: t.number, y: low });
      low = t.value as number;
    }
    best.push({ x: t.number, y: low });
  }
  const last = study.trials.at(-1)?.number;
  if (last !== undefined && best.length > 0) best.push({ x: last, y: low });
  return [
    { label: 'best so far', color: colors.best, kind: 'line', points: best },
    {
      label: 'trial value',
      color: colors.complete,
      kind: 'points',
      points: complete.map((t) => ({ x: t.number, y: t.value as number })),
    },
  ];
}

/** The numeric parameters of the study's space (choices of strings have no slice axis). */
export function numericParameters(study: StudyRecord): Array<{ name: string; log: boolean }> {
  return Object.entries(study.space).flatMap(([name, dim]) => {
    if (!dim) return [];
    if (dim.type === 'choice') return dim.values.every((v) => typeof v === 'number') ? [{ name, log: false }] : [];
    return [{ name, log: dim.type === 'log' }];
  });
}

/** One parameter's slice: complete trials' values against it, pruned trials' last losses faded. */
export function sliceSeries(study: StudyRecord, name: string): ChartSeries[] {
  const at = (state: 'complete' | 'pruned') =>
    study.trials.flatMap((t) => {
      const x = t.params[name];
      if (typeof x !== 'number' || t.state !== state) return [];
      const y = state === 'complete' ? t.value : (t.intermediate.at(-1)?.[1] ?? null);
      return y === null ? [] : [{ x, y }];
    });
  return [
    { label: 'complete', color: colors.complete, kind: 'points', points: at('complete') },
    { label: 'pruned (last loss)', color: colors.pruned, kind: 'points', points: at('pruned') },
  ];
}

/** Parallel coordinates over the complete trials. */
export function parallelSpec(study: StudyRecord): ParallelSpec {
  const complete = study.trials.filter((t) => t.state === 'complete' && t.value !== null);
  return {
    title: `Parallel coordinates of ${complete.length} complete trials`,
    axes: Object.entries(study.space).map(([name, dim]) => ({
      label: name,
      log: dim?.type === 'log',
      values: complete.map((t) => t.params[name] as number | string),
    })),
    objective: { label: 'best val loss', values: complete.map((t) => t.value as number) },
  };
}
