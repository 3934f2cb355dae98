/**
 * Boursier & Flammarion (2025): final training and test loss against the sample size n, with least
 * squares on the same data drawn dashed; the optimization threshold is the first n at which the
 * net no longer interpolates (its training loss reaches half the least-squares residual). Per run:
 * non-interpolating ⇔ L_train ≥ ½·L_train(least squares); the primary figure is the fraction of
 * non-interpolating runs against n, ± its binomial standard error √(p(1 − p)/k), for every part.
 */
import type { TopLevelSpec } from 'vega-lite';
import { lineChart, type Datum } from '../../report/charts.js';
import { curveData, formatValue, meanBy, numericRows, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, type MeanSe, meanSe, pairedBySeed, type PairedDifference, slope } from '../../report/statistics.js';
import { budgetsUpTo, classFractions, clarkeLines, thresholdAgainstBudget } from './clarke.js';

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

/** Per run: its training loss reached half the least-squares residual (it did not interpolate). */
export function nonInterpolating(d: Datum): boolean | null {
  const loss = d.train_loss;
  const baseline = d['baseline.trainLoss'];
  return typeof loss === 'number' && typeof baseline === 'number' ? loss >= 0.5 * baseline : null;
}

export interface FractionPoint {
  readonly part: string;
  readonly n: number;
  /** Fraction of runs that did not interpolate, its binomial standard error, and the number of runs. */
  readonly fraction: number;
  readonly se: number;
  readonly runs: number;
}

/** The fraction of non-interpolating runs at each n of each part. */
export function nonInterpolatingFractions(data: readonly Datum[]): FractionPoint[] {
  const groups = new Map<string, { part: string; n: number; flags: boolean[] }>();
  for (const d of data) {
    const flag = nonInterpolating(d);
    if (flag === null) continue;
    const key = `${String(d.part)}@${String(d['data.n'])}`;
    const g = groups.get(key) ?? { part: String(d.part), n: d['data.n'] as number, flags: [] };
    g.flags.push(flag);
    groups.set(key, g);
  }
  return [...groups.values()]
    .map(({ part, n, flags }) => {
      const p = flags.filter(Boolean).length / flags.length;
      return { part, n, fraction: p, se: Math.sqrt((p * (1 - p)) / flags.length), runs: flags.length };
    })
    .sort((a, b) => a.part.localeCompare(b.part) || a.n - b.n);
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

/**
 * Thm 3.1's concentration of the extremal vectors: per seed, the least-squares slope of log₁₀ (angle between the
 * positive extremal vector nearest β* and β*) on log₁₀ n over the small-init runs; mean ± SE over seeds. The
 * empirical D(w) deviates from its population value by O(√(d/n)), so the slope should be about −½.
 */
export function extremalConcentration(data: readonly Datum[]): (MeanSe & { readonly perN: { n: number; mean: number }[] }) | null {
  const own = data.filter((d) => d.part === PART && typeof d['extremal.teacherAngle'] === 'number' && (d['extremal.teacherAngle'] as number) > 0);
  if (own.length === 0) return null;
  const slopes: number[] = [];
  for (const seed of new Set(own.map((d) => d.seed))) {
    const b = slope(own.filter((d) => d.seed === seed).map((d) => [Math.log10(d['data.n'] as number), Math.log10(d['extremal.teacherAngle'] as number)] as const));
    if (b !== null) slopes.push(b);
  }
  return { ...meanSe(slopes), perN: meanBy(own, 'data.n', 'extremal.teacherAngle').map((p) => ({ n: p.x, mean: p.mean })) };
}

/** One run of the escape profile: when its training loss first fell below the target risk. */
export interface EscapeRun {
  readonly n: number;
  readonly initScale: number;
  readonly seed: number;
  readonly steps: number;
  /** It reached its step limit still above the target: the plateau lasts at least `steps`. */
  readonly censored: boolean;
}

export interface EscapeFinding {
  readonly runs: EscapeRun[];
  /** Per n: log₁₀(steps at the smallest init) − log₁₀(steps at the largest), paired by seed over the runs that escaped at both. */
  readonly growth: (PairedDifference & { readonly n: number; readonly from: number; readonly to: number; readonly censored: number })[];
}

/**
 * How long the small-init runs above the threshold stay near least squares, against the init scale:
 * a run's plateau ends at the first step its training loss falls below the target risk (stop reason
 * targetRisk); a run at its step limit is censored. The init scales of a seed share the data and the
 * initial directions (only their size differs), so runs are paired by seed.
 */
export function escapeFinding(data: readonly Datum[]): EscapeFinding {
  const runs: EscapeRun[] = data
    .filter((d) => d.part === PART && typeof d['model.initScale'] === 'number' && typeof d.steps === 'number' && (d.stop_reason === 'targetRisk' || d.stop_reason === 'maxSteps'))
    .map((d) => ({ n: d['data.n'] as number, initScale: d['model.initScale'] as number, seed: Number(d.seed ?? 0), steps: d.steps as number, censored: d.stop_reason === 'maxSteps' }));
  const growth = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b).map((n) => {
    const own = runs.filter((r) => r.n === n);
    const scales = [...new Set(own.map((r) => r.initScale))].sort((a, b) => a - b);
    const [from, to] = [scales[0], scales[scales.length - 1]];
    // log₁₀ steps of the runs that escaped, by seed.
    const escapedAt = (scale: number) => new Map(own.filter((r) => r.initScale === scale && !r.censored).map((r) => [r.seed, Math.log10(r.steps)]));
    return { ...pairedBySeed(escapedAt(from), escapedAt(to)), n, from, to, censored: own.filter((r) => r.censored).length };
  });
  return { runs, growth };
}

/** The report of a profile that sweeps the init scale within the small-init part (the escape profile). */
function escapeReport(input: ReportInput, data: readonly Datum[]): ReportContent {
  const finding = escapeFinding(data);
  const escaped = finding.runs.filter((r) => !r.censored).map((r) => ({ 'model.initScale': r.initScale, steps: r.steps, 'data.n': r.n }));
  const figure = {
    id: 'plateau_length',
    caption: 'Steps until the training loss of a small-init run first falls below the target risk (under half of least squares’: the end of its plateau near least squares) against the init scale, per n (mean ± SE over the seeds that got there; runs still above it at the step limit are left out and counted in the summary). A plateau that lengthens without bound as the init shrinks is a saddle escaped ever later, the stationary point of the λ → 0 limit.',
    spec: lineChart({ title: 'Plateau length vs init scale', data: escaped, x: { field: 'model.initScale', title: 'init scale (log)', log: true }, y: { field: 'steps', title: 'steps to escape (log)', log: true }, color: { field: 'data.n', title: 'n', type: 'nominal' }, band: true }),
  };
  const summary = finding.growth.map((g) => {
    const byScale = [...new Set(finding.runs.filter((r) => r.n === g.n).map((r) => r.initScale))].sort((a, b) => b - a);
    const counts = byScale.map((scale) => {
      const own = finding.runs.filter((r) => r.n === g.n && r.initScale === scale);
      const done = own.filter((r) => !r.censored);
      const median = done.map((r) => r.steps).sort((a, b) => a - b)[Math.floor(done.length / 2)];
      return `${done.length}/${own.length} escaped at init ${scale}${done.length ? ` (median step ${median})` : ''}`;
    });
    return `n = ${g.n}: ${counts.join(', ')}; log₁₀ steps at init ${g.from} minus at ${g.to}, paired by seed: ${formatMeanSe(g)} (${g.above} of ${g.count} seeds later at the smaller init, ${g.below} earlier).`;
  });
  const stationarity = gradientLine(data.filter((d) => d.part === PART && d.stop_reason === 'maxSteps'), 'the runs still near least squares at the step limit');
  if (stationarity) summary.push(stationarity);
  return { title: input.spec.report.title ?? input.name, summary, figures: [figure], table: input.rows };
}

export function thresholdReport(input: ReportInput): ReportContent {
  const data = thresholdData(input);
  if (new Set(data.filter((d) => d.part === PART).map((d) => d['model.initScale'])).size > 1) return escapeReport(input, data);
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
  const fractions = nonInterpolatingFractions(data);
  // One read of the curves serves the alignment figure and the drift check.
  const curves = curveData(input, ['extremal.alignedMass', 'extremal.alignedMass.chance', 'trainLoss']);
  const alignment = earlyAlignment(curves);
  const fractionData: Datum[] = fractions.flatMap((f) => [
    { part: f.part, 'data.n': f.n, fraction: f.fraction, low: Math.max(0, f.fraction - f.se), high: Math.min(1, f.fraction + f.se), runs: f.runs },
  ]);
  const figures = [
    {
      id: 'non_interpolating',
      caption: 'Fraction of runs that do not interpolate (final training loss ≥ ½ of least squares’) against n, ± one binomial standard error √(p(1 − p)/k) over the k seeds: the optimization threshold is where it rises from 0 to 1 for small inits; a large (lazy) init interpolates at every n.',
      spec: fractionChart(fractionData),
    },
    {
      id: 'early_alignment',
      caption: 'Early alignment (small init): the share of the neurons’ mass |a_j|·‖w_j‖ within 10° of an extremal vector of D(w) = (1/n) Σ 1{⟨w,x_k⟩>0} y_k x_k of their sign, over training, one line per n (mean ± SE over seeds); dashed: the share for random directions. Neurons align while the loss has barely moved.',
      spec: lineChart({ title: 'Neurons on extremal vectors', data: alignment.curves, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'extremal.alignedMass', title: 'mass within 10°', domain: [0, 1] }, color: { field: 'data.n', title: 'n', type: 'nominal' }, band: true, points: false, theory: { data: alignment.chance, label: 'random directions' } }),
    },
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
  const fractionLine = [...new Set(fractions.map((f) => f.part))].map(
    (part) => `${part}: non-interpolating ${fractions
      .filter((f) => f.part === part)
      .map((f) => `${Math.round(f.fraction * f.runs)}/${f.runs} at n = ${f.n}`)
      .join(', ')}.`,
  );
  const drift = lateDrift(curves, data);
  const stationarity = gradientLine(data.filter((d) => d.part === PART && nonInterpolating(d) === true), 'the non-interpolating small-init runs');
  const concentration = extremalConcentration(data);
  const summary = [
    ...fractionLine,
    ...(alignment.line ? [alignment.line] : []),
    ...(concentration
      ? [
          `extremal vectors concentrate (Thm 3.1): the angle between β* and the nearest positive extremal vector of D is ${concentration.perN.map((p) => `${formatValue(p.mean)}° at n = ${p.n}`).join(', ')}; log₁₀ angle against log₁₀ n, slope per seed ${formatMeanSe(concentration)} over ${concentration.count} seeds (√(d/n) concentration: −½).`,
        ]
      : []),
    ...(drift ? [drift] : []),
    ...(stationarity ? [stationarity] : []),
    ...(finding.threshold !== null && finding.below !== null
      ? [
          `optimization threshold between n = ${finding.below} and n = ${finding.threshold}.`,
          `training loss ${formatValue(at(finding.trainLoss, finding.below) ?? NaN)} at n = ${finding.below} versus ${formatValue(at(finding.trainLoss, finding.threshold) ?? NaN)} at n = ${finding.threshold} (least squares: ${formatValue(at(finding.baselineTrain, finding.threshold) ?? NaN)}).`,
          `test loss ${formatValue(at(finding.testLoss, finding.below) ?? NaN)} → ${formatValue(at(finding.testLoss, finding.threshold) ?? NaN)} across the threshold.`,
        ]
      : finding.threshold !== null
        ? [`the mean training loss reaches half of least squares' already at the smallest n run (${finding.threshold}): the threshold is at or below it.`]
        : ['no threshold in this range: the net interpolates at every n (or never does).']),
  ];
  const own = data.filter((d) => d.part === PART);
  if (own.some((d) => typeof d['window.meanGradient'] === 'number')) {
    const maxStep = Math.max(...own.map((d) => (typeof d.steps === 'number' ? d.steps : 0)));
    const budgets = thresholdAgainstBudget(own, curves, budgetsUpTo(maxStep));
    const classData: Datum[] = classFractions(own).map((f) => ({ part: f.runClass, 'data.n': f.n, fraction: f.fraction, low: Math.max(0, f.fraction - f.se), high: Math.min(1, f.fraction + f.se), runs: f.runs }));
    figures.unshift({
      id: 'run_classes',
      caption:
        'Each small-init run at its end: stationary and non-interpolating (the Clarke-type window rule fired: over its window the mean gradient ‖ḡ‖ = ‖θ_{t−W} − θ_t‖/(ηW) and the relative loss change were within tolerance, with L_train ≥ ½ least squares’), escaped (L_train < ½ least squares’), or still sliding at the step limit; fraction of runs per n ± the binomial SE. The paper: below n* runs interpolate, above it they stop at a non-interpolating point near least squares.',
      spec: fractionChart(classData, 'How each run ended', 'class'),
    });
    figures.push({
      id: 'threshold_budget',
      caption: 'The fraction of runs still at or above half of least squares’ training loss, read at each step budget (each run’s state at its last recorded step within the budget): n* moves with the budget while runs still slide.',
      spec: fractionChart(
        budgets.flatMap((b) => b.fractions.map((f) => ({ part: `${formatValue(b.budget)} steps`, 'data.n': f.n, fraction: f.fraction, low: f.fraction, high: f.fraction, runs: f.runs }))),
        'Non-interpolating runs by step budget',
        'budget',
      ),
    });
    summary.push(...clarkeLines(own, budgets));
  }
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}

/** Fraction against n (log), one line per part (or per class), with its ± SE band. */
function fractionChart(data: readonly Datum[], title = 'Runs that do not interpolate', colorTitle = 'setting'): TopLevelSpec {
  const x = { field: 'data\\.n', type: 'quantitative', title: 'training samples n (log)', scale: { type: 'log' } };
  const color = { field: 'part', type: 'nominal', title: colorTitle };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 380,
    height: 240,
    data: { values: data as Datum[] },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { field: 'low', type: 'quantitative', scale: { domain: [0, 1] }, title: 'fraction of runs' }, y2: { field: 'high' }, color } },
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'fraction', type: 'quantitative' }, color, tooltip: [{ field: 'part' }, { field: 'data\\.n', title: 'n' }, { field: 'fraction', format: '.2f' }, { field: 'runs' }] } },
    ],
  } as unknown as TopLevelSpec;
}

/** The extremal metric's curves of the small-init runs, the random-direction baseline, and one sentence. */
function earlyAlignment(allCurves: readonly Datum[]): { curves: Datum[]; chance: Datum[]; line: string | null } {
  const curves = allCurves.filter((d) => d.part === PART && typeof d['extremal.alignedMass'] === 'number' && (d.step as number) > 0);
  if (curves.length === 0) return { curves, chance: [], line: null };
  const steps = [...new Set(curves.map((d) => d.step as number))].sort((a, b) => a - b);
  const chanceMean = meanBy(curves, 'step', 'extremal.alignedMass.chance');
  const chance = chanceMean.map((p) => ({ step: p.x, 'extremal.alignedMass': p.mean, 'data.n': 'random' }));
  const byStep = meanBy(curves, 'step', 'extremal.alignedMass');
  const peak = byStep.reduce((a, b) => (b.mean > a.mean ? b : a));
  const first = byStep[0];
  const lossAtPeak = meanBy(curves.filter((d) => d.step === peak.x), 'step', 'trainLoss')[0]?.mean;
  const lossAtStart = meanBy(curves.filter((d) => d.step === steps[0]), 'step', 'trainLoss')[0]?.mean;
  const line = `early alignment: the share of neuron mass within 10° of an extremal vector of its sign goes from ${formatValue(first.mean)} at step ${first.x} to ${formatValue(peak.mean)} at step ${peak.x} (random directions: ${formatValue(chanceMean[0]?.mean ?? NaN)}), while the mean training loss goes from ${formatValue(lossAtStart ?? NaN)} to ${formatValue(lossAtPeak ?? NaN)} (small init, all n).`;
  return { curves, chance, line };
}

/**
 * Convergence of the runs that do not interpolate: how much their training loss still changes between
 * the last recorded step at or before a quarter of the budget and the end (for a 60 000-step run, from
 * step ≈ 15 000). A stationary point should not move; a run that escapes late changes by a lot.
 */
function lateDrift(allCurves: readonly Datum[], data: readonly Datum[]): string | null {
  const stuck = new Set(data.filter((d) => d.part === PART && nonInterpolating(d) === true).map((d) => d.trial_id as string));
  if (stuck.size === 0) return null;
  const curves = allCurves.filter((d) => stuck.has(d.trial as string) && typeof d.trainLoss === 'number');
  const changes: number[] = [];
  let from = 0;
  for (const id of stuck) {
    const own = curves.filter((d) => d.trial === id).sort((a, b) => (a.step as number) - (b.step as number));
    if (own.length < 2) continue;
    const end = own[own.length - 1];
    const quarter = (end.step as number) / 4;
    const early = [...own].reverse().find((d) => (d.step as number) <= quarter);
    if (!early) continue;
    from = Math.max(from, early.step as number);
    changes.push(Math.abs((end.trainLoss as number) - (early.trainLoss as number)) / (early.trainLoss as number));
  }
  if (changes.length === 0) return null;
  const moved = changes.filter((c) => c > 0.01).length;
  return `late drift of the non-interpolating small-init runs: training loss changes by at most ${formatValue(Math.max(...changes) * 100)}% between step ≈ ${from} and the end; ${moved} of ${changes.length} change by more than 1%.`;
}

/** A gradient norm this small is a stationary point at fp64 precision for these losses of order 0.1. */
const STATIONARY_GRADIENT = 1e-8;

/** The final gradient norms ‖∇L‖ (the `gradient` metric) of some runs: how stationary their end points are. */
function gradientLine(runs: readonly Datum[], which: string): string | null {
  const norms = runs.map((d) => d['gradient.norm']).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  if (norms.length === 0) return null;
  const stationary = norms.filter((g) => g < STATIONARY_GRADIENT).length;
  return `stationarity of ${which}: final ‖∇L‖ from ${formatValue(norms[0])} to ${formatValue(norms[norms.length - 1])} (median ${formatValue(norms[Math.floor(norms.length / 2)])}); ${stationary} of ${norms.length} below ${STATIONARY_GRADIENT} (stationary to numerical precision), the others still moving.`;
}
