/**
 * Duzgun et al. (2024): feature span error between a wide net and the concatenation of narrow nets,
 * both ways, against the width fraction α (with the wide-to-wide baseline); linear-probe accuracy;
 * and the addition/multiplication task, where concatenated narrow nets miss what the wide net learns.
 */
import { lineChart, type Datum } from '../charts.js';
import { curveData, formatValue, meanBy, numericRows, type ReportInput } from '../data.js';
import type { ReportContent } from '../html.js';

const ALPHA = 'comparison.widthFraction';

function longFormat(rows: readonly Datum[], fields: Record<string, string>): Datum[] {
  return rows.flatMap((r) => Object.entries(fields).filter(([f]) => typeof r[f] === 'number').map(([f, label]) => ({ [ALPHA]: r[ALPHA], value: r[f], what: label, trial: r.trial_id })));
}

export interface OverparamFinding {
  readonly alpha: number;
  readonly narrowToWide: number;
  readonly wideToNarrow: number;
  readonly wideToWide: number;
}

export function overparamFinding(input: ReportInput): OverparamFinding[] {
  const span = numericRows(input.rows, [ALPHA, 'compare.fseNarrowToWide', 'compare.fseWideToNarrow']).filter((r) => (r.part ?? 'span') === 'span');
  const a = meanBy(span, ALPHA, 'compare.fseNarrowToWide');
  const b = meanBy(span, ALPHA, 'compare.fseWideToNarrow');
  const c = meanBy(span, ALPHA, 'compare.fseWideToWide');
  return a.map((p, i) => ({ alpha: p.x, narrowToWide: p.mean, wideToNarrow: b[i]?.mean ?? NaN, wideToWide: c[i]?.mean ?? NaN }));
}

export function overparamReport(input: ReportInput): ReportContent {
  const rows = numericRows(input.rows, [ALPHA]);
  const span = rows.filter((r) => (r.part ?? 'span') === 'span');
  const toy = rows.filter((r) => r.part === 'toy');
  const x = { field: ALPHA, title: 'width fraction α of the narrow nets (log)', log: true };
  const color = { field: 'what', title: '' };
  const figures = [
    {
      id: 'feature_span_error',
      caption: 'Feature span error by ridge regression on held-out points: concatenated narrow nets onto the wide net (S_α → M₁), the reverse (M₁ → S_α), and a second wide net onto the first (M₁′ → M₁, the baseline).',
      spec: lineChart({
        title: 'Feature span error vs width fraction',
        data: longFormat(span, { 'compare.fseNarrowToWide': 'S_α → M₁', 'compare.fseWideToNarrow': 'M₁ → S_α', 'compare.fseWideToWide': 'M₁′ → M₁' }),
        x,
        y: { field: 'value', title: 'feature span error' },
        color,
        band: true,
      }),
    },
    {
      id: 'probe',
      caption: 'Linear-probe (ridge) test accuracy on frozen features: the wide net, the concatenated narrow nets, and the narrow features with the wide net’s residual features appended.',
      spec: lineChart({
        title: 'Feature performance vs width fraction',
        data: longFormat(span, { 'compare.probeWide': 'M₁', 'compare.probeNarrow': 'S_α', 'compare.probeNarrowWithResidual': 'S_α + R(S_α → M₁)' }),
        x,
        y: { field: 'value', title: 'probe test accuracy' },
        color,
        band: true,
      }),
    },
  ];
  if (toy.length) {
    figures.push({
      id: 'toy_error',
      caption: 'Addition/multiplication task: test error of the wide net and of the narrow nets (mean over the copies) against the width fraction.',
      spec: lineChart({ title: 'Toy task: test error', data: longFormat(toy, { 'compare.testErrorWide': 'wide net', 'compare.testErrorNarrow': 'narrow nets' }), x, y: { field: 'value', title: 'test error' }, color }),
    });
    const counts = curveData(input, ['neurons.aligned.0', 'neurons.aligned.2', 'narrow.neurons.aligned.0', 'narrow.neurons.aligned.2']).filter((d) => d.part === 'toy' && (d.step as number) > 0);
    const long = counts.flatMap((d) =>
      [
        ['neurons.aligned.0', 'wide, v₁ (addition)'],
        ['neurons.aligned.2', 'wide, v₃ (multiplication)'],
        ['narrow.neurons.aligned.0', 'narrow, v₁ (addition)'],
        ['narrow.neurons.aligned.2', 'narrow, v₃ (multiplication)'],
      ]
        .filter(([f]) => typeof d[f] === 'number')
        .map(([f, label]) => ({ step: d.step, count: d[f], what: `${label}, α = ${String(d[ALPHA])}` })),
    );
    figures.push({
      id: 'toy_neurons',
      caption: 'Neurons aligned with each signal vector (|cos| ≥ 0.5) over training, in the wide net and summed over the narrow nets.',
      spec: lineChart({ title: 'Toy task: neurons aligned with the signals', data: long, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'count', title: 'aligned neurons' }, color }),
    });
  }
  const f = overparamFinding(input);
  const smallest = f[0];
  const summary: string[] = [];
  if (smallest) {
    summary.push(
      `at α = ${formatValue(smallest.alpha)}: feature span error of the concatenated narrow nets onto the wide net ${formatValue(smallest.narrowToWide)}, the reverse ${formatValue(smallest.wideToNarrow)}, wide onto wide ${formatValue(smallest.wideToWide)}.`,
      `S_α → M₁ minus M₁ → S_α across α: ${f.map((p) => `${formatValue(p.alpha)}: ${formatValue(p.narrowToWide - p.wideToNarrow)}`).join(', ')}.`,
    );
  }
  const toyMeans = meanBy(toy, ALPHA, 'compare.testErrorNarrow');
  const toyWide = meanBy(toy, ALPHA, 'compare.testErrorWide');
  if (toyMeans.length) summary.push(`toy task test error, narrow nets versus wide: ${toyMeans.map((p, i) => `α = ${formatValue(p.x)}: ${formatValue(p.mean)} vs ${formatValue(toyWide[i]?.mean ?? NaN)}`).join('; ')}.`);
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
