/**
 * Fig. 3 of Xu & Ziyin (2025) on a convolutional net: the init scale σ (a multiplier on every layer's
 * Kaiming init) against the best test error over training, the relative distance ‖θ_T − θ₀‖/‖θ₀‖ and
 * the norm of all weights ‖θ_T‖, each trial trained until it fits its training set. The paper's claim:
 * a larger init trains to a worse test accuracy, its weights move less (the kernel side) and end with a
 * larger norm. Every comparison is paired by seed between the sweep's two ends.
 */
import { lineChart, type Datum } from '../../report/charts.js';
import { formatValue, numericRows, settingText, specOf, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, formatPaired, meanSe, type MeanSe, pairedBySeed, type PairedDifference } from '../../report/statistics.js';

/** The part of the mechanisms spec that sweeps the init scale of a deep net. */
export const INIT_SCALE_PART = 'initScale';

/** The part that sweeps the init scale and the learning rate of a two-layer net on images (the paper's Figs. 4–5). */
export const TWO_LAYER_PART = 'twoLayer';

const RATE = 'training.learningRate';

const SCALE = 'model.initScale';
const BEST = 'best.testError';

export interface InitScaleRow {
  readonly scale: number;
  readonly seeds: number;
  /** Trials that reached the target train accuracy (the rest stopped on a budget and are flagged). */
  readonly fitted: number;
  readonly bestTestError: MeanSe;
  readonly distanceFromInit: MeanSe;
  readonly weightNorm: MeanSe;
  /** ‖θ₀‖, the norm's baseline: it grows like σ before any training. */
  readonly initialWeightNorm: MeanSe;
  readonly trainError: MeanSe;
}

export interface InitScaleFinding {
  readonly data: Datum[];
  readonly rows: readonly InitScaleRow[];
  readonly from: number;
  readonly to: number;
  /** best test error at the largest scale − at the smallest, paired by seed (> 0: the larger init generalizes worse). */
  readonly errorRise: PairedDifference;
  /** log₁₀ distance from init at the smallest scale − at the largest (> 0: the larger init moves less). */
  readonly distanceDrop: PairedDifference;
  /** log₁₀ ‖θ_T‖ at the largest scale − at the smallest (> 0: the larger init ends with larger weights). */
  readonly normRise: PairedDifference;
  /** Finished trials that stopped before reaching the target train accuracy. */
  readonly unfitted: number;
  readonly diverged: number;
}

export function initScaleFinding(input: ReportInput): InitScaleFinding {
  return initScaleFindingOf(input.rows.filter((r) => r.part === INIT_SCALE_PART));
}

/** The finding over some rows of one part at one learning rate. */
function initScaleFindingOf(part: ReportInput['rows']): InitScaleFinding {
  const data = numericRows(part, [SCALE, 'seed', BEST, 'distanceFromInit', 'weightNorm', 'initialWeightNorm', 'train_error']).filter((r) => r.status === 'completed');
  const scales = [...new Set(data.map((d) => d[SCALE] as number))].sort((a, b) => a - b);
  const at = (scale: number) => data.filter((d) => d[SCALE] === scale);
  const fits = (d: Datum) => d.stop_reason === 'targetAccuracy';
  const rows = scales.map((scale) => {
    const own = at(scale);
    const stat = (field: string) => meanSe(own.map((d) => d[field] as number));
    return { scale, seeds: own.length, fitted: own.filter(fits).length, bestTestError: stat(BEST), distanceFromInit: stat('distanceFromInit'), weightNorm: stat('weightNorm'), initialWeightNorm: stat('initialWeightNorm'), trainError: stat('train_error') };
  });
  const [from, to] = [scales[0], scales[scales.length - 1]];
  const bySeed = (scale: number, value: (d: Datum) => number) => new Map(at(scale).map((d) => [d.seed as number, value(d)]));
  const log = (field: string) => (d: Datum) => Math.log10(d[field] as number);
  return {
    data,
    rows,
    from,
    to,
    errorRise: pairedBySeed(bySeed(to, (d) => d[BEST] as number), bySeed(from, (d) => d[BEST] as number)),
    distanceDrop: pairedBySeed(bySeed(from, log('distanceFromInit')), bySeed(to, log('distanceFromInit'))),
    normRise: pairedBySeed(bySeed(to, log('weightNorm')), bySeed(from, log('weightNorm'))),
    unfitted: data.filter((d) => !fits(d)).length,
    diverged: part.filter((r) => r.status === 'diverged').length,
  };
}

/** The trials' setting in one line, beside the paper's. */
function settingLine(input: ReportInput): string[] {
  const trial = input.trials.find((t) => t.point.part === INIT_SCALE_PART && t.spec);
  if (!trial) return [];
  const spec = specOf(trial);
  const { training } = spec;
  const setting = settingText(spec);
  return [
    `setting: ${setting.net}, ${setting.training}, stopped at ${training.stop.targetTrainAccuracy !== undefined ? `${formatValue(100 * training.stop.targetTrainAccuracy)} % train accuracy` : 'its budget'} or ${training.stop.maxEpochs ?? training.stop.maxSteps} ${training.stop.maxEpochs !== undefined ? 'epochs' : 'steps'}. The paper: ResNet-18 with batch norm on CIFAR-10. Without batch norm the output grows like σ to the depth, so one SGD rate cannot train every σ (ResNet-8 at η = 0.05 diverged within 3 steps at σ = 2); Adam's scale-free steps substitute.`,
  ];
}

export function initScaleReport(input: ReportInput): ReportContent {
  const f = initScaleFinding(input);
  if (f.rows.length < 2) {
    const failed = input.rows.filter((r) => r.part === INIT_SCALE_PART && r.status === 'failed').length;
    return { title: input.spec.report.title ?? input.name, summary: [...settingLine(input), `fewer than two init scales have completed trials (${f.diverged} diverged, ${failed} failed): nothing to compare.`], figures: [], table: input.rows };
  }
  const x = { field: SCALE, title: 'init scale σ (× Kaiming, log)', log: true };
  const describe = (r: InitScaleRow) =>
    `σ = ${r.scale}: best test error ${formatMeanSe(r.bestTestError)}, ‖θ_T − θ₀‖/‖θ₀‖ ${formatMeanSe(r.distanceFromInit)}, ‖θ_T‖ ${formatMeanSe(r.weightNorm)} (‖θ₀‖ ${formatMeanSe(r.initialWeightNorm)}), train error at the stop ${formatMeanSe(r.trainError)} (${r.fitted} of ${r.seeds} seeds reached the target train accuracy)`;
  return {
    title: input.spec.report.title ?? input.name,
    summary: [
      ...settingLine(input),
      ...f.rows.map(describe),
      `best test error at σ = ${f.to} minus at σ = ${f.from}, paired by seed: ${formatPaired(f.errorRise, 'worse at the larger init')}; the paper: test accuracy falls as σ grows (ResNet-18, CIFAR-10).`,
      `log₁₀ relative distance from init at σ = ${f.from} minus at σ = ${f.to}: ${formatPaired(f.distanceDrop, 'moving less at the larger init')} — the larger init is on the kernel side.`,
      `log₁₀ ‖θ_T‖ at σ = ${f.to} minus at σ = ${f.from}: ${formatPaired(f.normRise, 'larger at the larger init')}; the paper: larger inits end with larger weight norms (‖θ₀‖ alone grows by log₁₀ ${formatValue(Math.log10(f.to / f.from))}).`,
      `${f.unfitted} finished trial(s) stopped on a budget before the target train accuracy (the paper's runs all reach 100 %); ${f.diverged} diverged and are left out.`,
    ],
    figures: [
      {
        id: 'init_scale_test',
        caption: 'Best test error over training against the init scale σ (Fig. 3 left of the paper, there ResNet-18 with batch norm on CIFAR-10; here the spec’s net without batch norm): mean ± SE over seeds.',
        spec: lineChart({ title: 'Best test error vs init scale', data: f.data, x, y: { field: BEST, title: 'best test error over training' }, band: true }),
      },
      {
        id: 'init_scale_distance',
        caption: 'Relative distance from init ‖θ_T − θ₀‖/‖θ₀‖ at the end against σ (the paper’s Fig. 4 readout): a larger init moves its weights less, toward the kernel regime.',
        spec: lineChart({ title: 'Distance from init vs init scale', data: f.data, x, y: { field: 'distanceFromInit', title: '‖θ_T − θ₀‖ / ‖θ₀‖ (log)', log: true }, band: true }),
      },
      {
        id: 'init_scale_norm',
        caption: 'Norm of all weights at the end ‖θ_T‖ against σ (Fig. 3 right of the paper).',
        spec: lineChart({ title: 'Weight norm vs init scale', data: f.data, x, y: { field: 'weightNorm', title: '‖θ_T‖ (log)', log: true }, band: true }),
      },
    ],
    table: input.rows,
  };
}

export interface TwoLayerFinding {
  /** Per learning rate: the init-scale finding at that rate. */
  readonly byRate: readonly (InitScaleFinding & { readonly rate: number })[];
  /** Per init scale: log₁₀ relative distance at the largest rate minus at the smallest, paired by seed (> 0: a larger step moves the weights farther). */
  readonly rateEffect: readonly (PairedDifference & { readonly scale: number; readonly from: number; readonly to: number })[];
}

/**
 * Figs. 4–5 of Xu & Ziyin (2025) on a two-layer net: at each learning rate η, the init scale σ's effect on the best
 * test error and the relative distance from init (as Fig. 3's), and at each σ the learning rate's effect on the
 * distance: the kernel phase (weights barely move) and the feature-learning phase reached by other (σ, η) pairs.
 */
export function twoLayerFinding(input: ReportInput): TwoLayerFinding {
  const part = input.rows.filter((r) => r.part === TWO_LAYER_PART);
  const rates = [...new Set(part.map((r) => r[RATE]).filter((v): v is number => typeof v === 'number'))].sort((a, b) => a - b);
  const byRate = rates.map((rate) => ({ rate, ...initScaleFindingOf(part.filter((r) => r[RATE] === rate)) }));
  const data = numericRows(part, [SCALE, RATE, 'seed', 'distanceFromInit']).filter((r) => r.status === 'completed');
  const scales = [...new Set(data.map((d) => d[SCALE] as number))].sort((a, b) => a - b);
  const [from, to] = [rates[0], rates[rates.length - 1]];
  const logDistance = (scale: number, rate: number) => new Map(data.filter((d) => d[SCALE] === scale && d[RATE] === rate).map((d) => [d.seed as number, Math.log10(d.distanceFromInit as number)]));
  const rateEffect = rates.length < 2 ? [] : scales.map((scale) => ({ scale, from, to, ...pairedBySeed(logDistance(scale, to), logDistance(scale, from)) }));
  return { byRate, rateEffect };
}

export function twoLayerReport(input: ReportInput): ReportContent {
  const f = twoLayerFinding(input);
  const part = input.rows.filter((r) => r.part === TWO_LAYER_PART);
  const data = numericRows(part, [SCALE, RATE, BEST, 'distanceFromInit']).filter((r) => r.status === 'completed');
  const x = { field: SCALE, title: 'init scale σ (× Kaiming, log)', log: true };
  const color = { field: RATE, title: 'learning rate η', type: 'nominal' as const };
  const trial = input.trials.find((t) => t.point.part === TWO_LAYER_PART && t.spec);
  const setting = trial ? settingText(specOf(trial)) : null;
  return {
    title: input.spec.report.title ?? input.name,
    summary: [
      ...(setting ? [`setting: ${setting.net}, ${setting.training.replace(/ at [^,]+/, ' at the swept η')}. The paper (Figs. 4–5): a two-layer ReLU net on CIFAR-10, 10 000 epochs at batch 128; here MNIST, and the epochs two cores afford.`] : []),
      ...f.byRate.flatMap((r) =>
        r.rows.length < 2
          ? [`η = ${r.rate}: fewer than two init scales completed.`]
          : [
              `η = ${r.rate}: ${r.rows.map((row) => `σ = ${row.scale}: best test error ${formatMeanSe(row.bestTestError)}, ‖θ_T − θ₀‖/‖θ₀‖ ${formatMeanSe(row.distanceFromInit)} (${row.fitted}/${row.seeds} fitted)`).join('; ')}.`,
              `η = ${r.rate}: log₁₀ relative distance at σ = ${r.from} minus at σ = ${r.to}: ${formatPaired(r.distanceDrop, 'moving less at the larger init')}; best test error at σ = ${r.to} minus at σ = ${r.from}: ${formatPaired(r.errorRise, 'worse at the larger init')}.`,
            ],
      ),
      ...f.rateEffect.map((e) => `σ = ${e.scale}: log₁₀ relative distance at η = ${e.to} minus at η = ${e.from}: ${formatPaired(e, 'moving more at the larger rate')}.`),
    ],
    figures: [
      {
        id: 'two_layer_test',
        caption: 'Best test error over training against the init scale σ, one line per learning rate η (the paper’s Figs. 4–5 left, there best test accuracy on CIFAR-10): mean ± SE over seeds.',
        spec: lineChart({ title: 'Best test error vs init scale', data, x, y: { field: BEST, title: 'best test error over training' }, color, band: true }),
      },
      {
        id: 'two_layer_distance',
        caption: 'Relative distance from init ‖θ_T − θ₀‖/‖θ₀‖ against σ, one line per η (Figs. 4–5 right): the kernel phase where the weights barely move, the feature-learning phase where they move by a sizable fraction.',
        spec: lineChart({ title: 'Distance from init vs init scale', data, x, y: { field: 'distanceFromInit', title: '‖θ_T − θ₀‖ / ‖θ₀‖ (log)', log: true }, color, band: true }),
      },
    ],
    table: input.rows,
  };
}
