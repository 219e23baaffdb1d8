import { type ComputeModel, sixND } from './parametric';
import { linearFit } from './stats';

/**
 * One measure of compute for a set of runs. Runs that carry their exact training FLOPs (a sweep's runs, a
 * CSV's flops column) give C = k N^p D fitted by least squares on log(C / D) against log N; runs without them
 * are counted as 6·N·D. Every verdict, calculator and chart then spends a budget in the same FLOPs.
 */

export interface RunCompute {
  n: number;
  d: number;
  flops?: number;
}

export interface ComputeMeasure {
  model: ComputeModel;
  /** "exact": the runs' own FLOP counts; "6ND": Chinchilla's approximation */
  measure: 'exact' | '6ND';
  /** how far 6·N·D strays from the runs' exact FLOPs: the smallest and largest ratio */
  sixNdRatio: [number, number] | null;
}

export function fitComputeModel(runs: RunCompute[]): ComputeMeasure {
  const exact = runs.filter((run): run is Required<RunCompute> => run.flops !== undefined && run.flops > 0);
  if (exact.length < runs.length || exact.length === 0) return { model: sixND, measure: '6ND', sixNdRatio: null };
  const ratios = exact.map((run) => (6 * run.n * run.d) / run.flops);
  const sixNdRatio: [number, number] = [Math.min(...ratios), Math.max(...ratios)];
  const logN = exact.map((run) => Math.log(run.n));
  const perToken = exact.map((run) => Math.log(run.flops / run.d));
  // One size: no slope to fit; keep p = 1 and match k to the runs.
  if (new Set(exact.map((run) => run.n)).size < 2) {
    const k = Math.exp(perToken.reduce((sum, value, i) => sum + value - (logN[i] as number), 0) / exact.length);
    return { model: { k, p: 1 }, measure: 'exact', sixNdRatio };
  }
  const { slope, intercept } = linearFit(logN, perToken);
  return { model: { k: Math.exp(intercept), p: slope }, measure: 'exact', sixNdRatio };
}

/** "C = 7.2·N^0.97·D, fitted to the runs' exact FLOPs" or "C = 6·N·D". */
export function describeCompute(compute: ComputeMeasure): string {
  if (compute.measure === '6ND') return 'C = 6·N·D (the runs carry no FLOP counts of their own)';
  const { k, p } = compute.model;
  return `C = ${k.toPrecision(3)}·N^${p.toFixed(3)}·D, fitted to the training FLOPs the runs record (a sweep's runs count them exactly, layer by layer, as the methods say)`;
}
