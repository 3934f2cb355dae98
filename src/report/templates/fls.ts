/**
 * Yeom et al. (2026): test error against the feature learning strength FLS = 1/λ² (λ the init scale
 * of a 2-homogeneous net), with the alignment of the neurons and their distance from initialization
 * beside it, so both failure sides show: over-alignment at large FLS, over-fitting at small FLS.
 */
import { lineChart, type Datum } from '../charts.js';
import { formatValue, meanBy, numericRows, type ReportInput } from '../data.js';
import type { ReportContent } from '../html.js';

export interface FlsFinding {
  readonly bestFls: number;
  readonly bestError: number;
  readonly smallFlsError: number;
  readonly largeFlsError: number;
  readonly alignmentAtSmall: number;
  readonly alignmentAtLarge: number;
}

export function flsData(input: ReportInput): Datum[] {
  return numericRows(input.rows, ['model.initScale', 'test_error']).map((r) => ({ ...r, fls: 1 / (r['model.initScale'] as number) ** 2 }));
}

export function flsFinding(data: readonly Datum[]): FlsFinding {
  const errors = meanBy(data, 'fls', 'test_error');
  const alignment = meanBy(data, 'fls', 'neurons.meanAbsPairCosine');
  const best = errors.reduce((a, b) => (b.mean < a.mean ? b : a));
  return {
    bestFls: best.x,
    bestError: best.mean,
    smallFlsError: errors[0].mean,
    largeFlsError: errors[errors.length - 1].mean,
    alignmentAtSmall: alignment[0]?.mean ?? NaN,
    alignmentAtLarge: alignment[alignment.length - 1]?.mean ?? NaN,
  };
}

export function flsReport(input: ReportInput): ReportContent {
  const data = flsData(input);
  const x = { field: 'fls', title: 'feature learning strength 1/λ² (log)', log: true };
  const figures = [
    {
      id: 'test_error',
      caption: 'Test error at the target training risk, mean over seeds with a ±1 standard error band: an interior optimum between the two failure sides.',
      spec: lineChart({ title: 'Test error vs feature learning strength', data, x, y: { field: 'test_error', title: 'test error' }, band: true }),
    },
    {
      id: 'alignment',
      caption: 'Over-alignment: the mean |cos| between first-layer neurons grows with the strength, and the number of distinct neuron directions falls.',
      spec: lineChart({ title: 'Neuron alignment vs feature learning strength', data: numericRows(data, ['neurons.meanAbsPairCosine']), x, y: { field: 'neurons.meanAbsPairCosine', title: 'mean |cos(w_j, w_k)|' }, band: true }),
    },
    {
      id: 'directions',
      caption: 'Distinct neuron directions (norm-weighted clusters within 10°) at the stopping time.',
      spec: lineChart({ title: 'Distinct directions vs feature learning strength', data: numericRows(data, ['neurons.distinctDirections']), x, y: { field: 'neurons.distinctDirections', title: 'distinct directions' }, band: true }),
    },
    {
      id: 'distance',
      caption: 'The lazy side: relative distance from initialization ‖θ_T − θ₀‖/‖θ₀‖ is small at small strength, where the fit is kernel-like.',
      spec: lineChart({ title: 'Distance from init vs feature learning strength', data: numericRows(data, ['distanceFromInit']), x, y: { field: 'distanceFromInit', title: '‖θ_T − θ₀‖ / ‖θ₀‖ (log)', log: true }, band: true }),
    },
  ];
  const summary: string[] = [];
  if (data.length > 0) {
    const f = flsFinding(data);
    summary.push(
      `optimal FLS ≈ ${formatValue(f.bestFls)}: test error ${formatValue(f.bestError)} versus ${formatValue(f.smallFlsError)} at the smallest and ${formatValue(f.largeFlsError)} at the largest strength.`,
      `over-alignment: mean |cos| between neurons ${formatValue(f.alignmentAtSmall)} at the smallest strength, ${formatValue(f.alignmentAtLarge)} at the largest.`,
      `${data.length} trials at the target training risk ${String((input.spec.base.training as { stop?: { targetTrainRisk?: number } } | undefined)?.stop?.targetTrainRisk ?? '')}.`,
    );
  }
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
