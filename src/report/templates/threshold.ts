/**
 * Boursier & Flammarion (2025): final training and test loss against the sample size n, with least
 * squares on the same data drawn dashed; the optimization threshold is the first n at which the
 * net no longer interpolates (its training loss reaches half the least-squares residual).
 */
import { lineChart, type Datum } from '../charts.js';
import { formatValue, meanBy, numericRows, type ReportInput } from '../data.js';
import type { ReportContent } from '../html.js';

export interface ThresholdFinding {
  /** The first n that does not interpolate, and the last that does (null where none). */
  readonly threshold: number | null;
  readonly below: number | null;
  readonly trainLoss: { x: number; mean: number }[];
  readonly testLoss: { x: number; mean: number }[];
  readonly baselineTrain: { x: number; mean: number }[];
}

const PART = 'small-init';

export function thresholdData(input: ReportInput): Datum[] {
  return numericRows(input.rows, ['data.n', 'train_loss', 'test_loss']).map((r) => ({ ...r, part: (r.part as string | undefined) ?? PART }));
}

export function thresholdFinding(data: readonly Datum[]): ThresholdFinding {
  const own = data.filter((d) => d.part === PART);
  const trainLoss = meanBy(own, 'data.n', 'train_loss');
  const baselineTrain = meanBy(own, 'data.n', 'baseline.trainLoss');
  const testLoss = meanBy(own, 'data.n', 'test_loss');
  const index = trainLoss.findIndex((t) => {
    const b = baselineTrain.find((x) => x.x === t.x);
    return b !== undefined && t.mean >= 0.5 * b.mean;
  });
  return { threshold: index >= 0 ? trainLoss[index].x : null, below: index > 0 ? trainLoss[index - 1].x : null, trainLoss, testLoss, baselineTrain };
}

export function thresholdReport(input: ReportInput): ReportContent {
  const data = thresholdData(input);
  const finding = thresholdFinding(data);
  const x = { field: 'data.n', title: 'training samples n (log)', log: true };
  const color = { field: 'part', title: 'initialization' };
  const baseline = (field: string) =>
    meanBy(
      data.filter((d) => d.part === PART),
      'data.n',
      field,
    ).map((p) => ({ 'data.n': p.x, [field === 'baseline.trainLoss' ? 'train_loss' : 'test_loss']: p.mean }));
  const rules = finding.threshold !== null ? [{ x: finding.threshold, label: 'threshold' }] : [];
  const figures = [
    {
      id: 'train_loss',
      caption: 'Final training loss (½ mean squared error): ≈ 0 below the threshold (interpolation), ≈ the least-squares residual (dashed) above it.',
      spec: lineChart({ title: 'Training loss vs n', data, x, y: { field: 'train_loss', title: 'final training loss' }, color, band: true, theory: { data: baseline('baseline.trainLoss'), label: 'least squares' }, rules }),
    },
    {
      id: 'test_loss',
      caption: 'Test loss against the noiseless teacher: it drops at the threshold and then follows least squares (dashed).',
      spec: lineChart({ title: 'Test loss vs n', data, x, y: { field: 'test_loss', title: 'test loss (log)', log: true }, color, band: true, theory: { data: baseline('baseline.testLoss'), label: 'least squares' }, rules }),
    },
    {
      id: 'directions',
      caption: 'Distinct neuron directions after training (norm-weighted clusters within 10°): few above the threshold, many below it.',
      spec: lineChart({ title: 'Distinct neuron directions vs n', data: numericRows(data, ['neurons.distinctDirections']), x, y: { field: 'neurons.distinctDirections', title: 'distinct directions' }, color, band: true, rules }),
    },
  ];
  const at = (list: { x: number; mean: number }[], n: number | null) => (n === null ? null : (list.find((p) => p.x === n)?.mean ?? null));
  const summary =
    finding.threshold !== null
      ? [
          `optimization threshold between n = ${finding.below ?? '—'} and n = ${finding.threshold}.`,
          `training loss ${formatValue(at(finding.trainLoss, finding.below) ?? NaN)} at n = ${finding.below ?? '—'} versus ${formatValue(at(finding.trainLoss, finding.threshold) ?? NaN)} at n = ${finding.threshold} (least squares: ${formatValue(at(finding.baselineTrain, finding.threshold) ?? NaN)}).`,
          `test loss ${formatValue(at(finding.testLoss, finding.below) ?? NaN)} → ${formatValue(at(finding.testLoss, finding.threshold) ?? NaN)} across the threshold.`,
        ]
      : ['no threshold in this range: the net interpolates at every n (or never does).'];
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
