/**
 * Yeom, Ha & Lee (2026): test error at a target training risk against the feature learning strength
 * FLS = 1/(α·λ^L) (models/strength.ts), with both failure sides measured on the same axis:
 * over-fitting (the fraction of the flipped training points the net fits, the train–test gap) and
 * over-alignment (the contribution-weighted |cos| between neurons and the effective number of
 * directions, each beside its value for the initial random neurons). Each side is stated as a
 * paired difference over seeds against the optimum.
 */
import { lineChart, type Datum } from '../../report/charts.js';
import { formatValue, meanBy, numericRows, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, meanSe, type MeanSe, pairedBySeed, type PairedDifference } from '../../report/statistics.js';
import { MULTIPLIER_PART, multiplierReport } from './outputMultiplier.js';
import { MIXTURE_PART, mixtureReport } from './mixture.js';
import { SCALING_PART, scalingReport } from './scalingLaw.js';

const FLS = 'feature_learning_strength';
/** Fewer paired seeds than this do not make a verdict. */
const MIN_SEEDS = 5;
/** The part drawn as the main curve when present. */
const MAIN_PART = 'init-scale';

/** Which knob moved the strength in a trial, from its sweep point. */
export function knobOf(point: Datum): string {
  if (typeof point['model.outputScale'] === 'number') return 'output multiplier α';
  if (typeof point['model.initScale'] === 'number') return 'init scale λ';
  return 'spec';
}

export function flsData(input: ReportInput): Datum[] {
  return numericRows(input.rows, [FLS, 'test_error']).map((r) => ({ ...r, knob: knobOf(r), part: typeof r.part === 'string' ? r.part : MAIN_PART }));
}

export interface FlsSide {
  readonly fls: number;
  /** Test error here minus at the optimum, paired by seed. */
  readonly difference: PairedDifference;
}

export interface FlsCurve {
  readonly optimum: { readonly fls: number; readonly testError: MeanSe };
  /** The smallest strength (lazy end) and the largest (rich end). */
  readonly lazy: FlsSide;
  readonly rich: FlsSide;
  readonly interior: boolean;
  /** Mean fitted-noise fraction by strength (ascending FLS), when measured. */
  readonly noiseFitted: readonly { readonly x: number; readonly mean: number }[];
}

function bySeed(rows: readonly Datum[], fls: number, field: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of rows) if (r[FLS] === fls && typeof r.seed === 'number' && typeof r[field] === 'number') out.set(r.seed, r[field] as number);
  return out;
}

/** Paired difference of a field between two strengths, over the seeds both have. */
export function pairedAt(rows: readonly Datum[], field: string, a: number, b: number): PairedDifference {
  return pairedBySeed(bySeed(rows, a, field), bySeed(rows, b, field));
}

/** The optimum (least mean test error) and both ends of one curve (rows of one part). */
export function flsCurve(rows: readonly Datum[]): FlsCurve | null {
  const errors = meanBy(rows, FLS, 'test_error');
  if (errors.length < 3) return null;
  const best = errors.reduce((a, b) => (b.mean < a.mean ? b : a));
  const strengths = errors.map((e) => e.x);
  const smallest = strengths[0];
  const largest = strengths[strengths.length - 1];
  return {
    optimum: { fls: best.x, testError: meanSe([...bySeed(rows, best.x, 'test_error').values()]) },
    lazy: { fls: smallest, difference: pairedAt(rows, 'test_error', smallest, best.x) },
    rich: { fls: largest, difference: pairedAt(rows, 'test_error', largest, best.x) },
    interior: best.x !== smallest && best.x !== largest,
    noiseFitted: meanBy(rows, FLS, 'overfitting.noiseFitted').map((p) => ({ x: p.x, mean: p.mean })),
  };
}

/** Whether a sequence never rises. */
export function nonIncreasing(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v <= values[i - 1]);
}

/**
 * Output-multiplier trials that have an init-scale twin (same seed, same FLS) and how many of them
 * gave the twin's test error to 1e-12 and its step count: the knobs' equivalence, measured.
 */
export function knobAgreement(data: readonly Datum[]): { readonly twins: number; readonly equal: number } {
  const byInit = data.filter((r) => r.part === MAIN_PART);
  let twins = 0;
  let equal = 0;
  for (const r of data.filter((d) => d.part === 'output-scale')) {
    const twin = byInit.find((m) => m.seed === r.seed && Math.abs((m[FLS] as number) / (r[FLS] as number) - 1) < 1e-9);
    if (!twin) continue;
    twins++;
    if (Math.abs((twin.test_error as number) - (r.test_error as number)) < 1e-12 && twin.steps === r.steps) equal++;
  }
  return { twins, equal };
}

function sideSentence(name: string, side: FlsSide, optimum: number): string {
  const d = side.difference;
  const t = d.se > 0 ? d.mean / d.se : NaN;
  const verdict = d.count < MIN_SEEDS ? `too few seeds to call (fewer than ${MIN_SEEDS})` : d.se > 0 && t >= 2 ? 'resolved' : 'not resolved (below 2 standard errors)';
  return `${name} (FLS ${formatValue(side.fls)}): test error ${formatMeanSe(d)} above the optimum at FLS ${formatValue(optimum)}, paired over ${d.count} seeds (t = ${Number.isFinite(t) ? t.toFixed(1) : 'n/a'}; ${d.above} seeds higher, ${d.below} lower): ${verdict}.`;
}

/** Trained measure and its random-neuron baseline as two series of one chart. */
function withBaseline(rows: readonly Datum[], field: string): Datum[] {
  const random = field.replace('neurons.', 'neurons.random.');
  return [
    ...numericRows(rows, [field]).map((r) => ({ [FLS]: r[FLS], value: r[field], neurons: 'trained', seed: r.seed })),
    ...numericRows(rows, [random]).map((r) => ({ [FLS]: r[FLS], value: r[random], neurons: 'initial (random)', seed: r.seed })),
  ] as Datum[];
}

export function flsReport(input: ReportInput): ReportContent {
  if (input.rows.some((r) => r.part === SCALING_PART)) return scalingReport(input);
  if (input.rows.some((r) => r.part === MULTIPLIER_PART)) return multiplierReport(input);
  if (input.rows.some((r) => r.part === MIXTURE_PART)) return mixtureReport(input);
  const data = flsData(input);
  // The init-scale sweep when there is one (the output-scale sweep traces the same curve), else the first part.
  const mainPart = data.some((r) => r.part === MAIN_PART) ? MAIN_PART : ((data[0]?.part as string | undefined) ?? MAIN_PART);
  const main = data.filter((r) => r.part === mainPart);
  const atDefaultTarget = data.filter((r) => r.part !== 'target-risk');
  const teacherWidth = (input.spec.base.data as { teacherWidth?: number } | undefined)?.teacherWidth;
  const x = { field: FLS, title: 'feature learning strength 1/(α·λ^L) (log)', log: true };
  const knobColor = { field: 'part', title: 'sweep (knob)' };
  const figures = [
    {
      id: 'test_error',
      caption:
        'Test error (clean test labels) at the target training risk against FLS = 1/(α·λ^L), mean ± standard error over seeds, one line per sweep: init-scale moves λ, output-scale moves α at the same strengths (with the co-scaled learning rate the two are the same dynamics, so the lines coincide), uncentered trains f instead of f − f₀.',
      spec: lineChart({ title: 'Test error vs feature learning strength', data: atDefaultTarget, x, y: { field: 'test_error', title: 'test error' }, color: knobColor, band: true }),
    },
    {
      id: 'noise_fitted',
      caption:
        'Over-fitting: the fraction of the flipped training points the net classifies as their flipped label at the stop, against its baseline (dashed: the clean test error, how often a net that learned the rule without memorizing would agree with a flipped label).',
      spec: lineChart({
        title: 'Fitted label noise vs feature learning strength',
        data: numericRows(main, ['overfitting.noiseFitted']),
        x,
        y: { field: 'overfitting.noiseFitted', title: 'fitted share of flipped points' },
        band: true,
        theory: { data: meanBy(main, FLS, 'overfitting.noiseFittedBaseline').map((p) => ({ [FLS]: p.x, 'overfitting.noiseFitted': p.mean })), label: 'baseline: clean test error' },
      }),
    },
    {
      id: 'gap',
      caption: 'Over-fitting: the train–test gap, test error minus training error (on the labels trained on), at the stop.',
      spec: lineChart({ title: 'Train–test gap vs feature learning strength', data: numericRows(main, ['overfitting.gap']), x, y: { field: 'overfitting.gap', title: 'test error − train error' }, band: true }),
    },
    {
      id: 'alignment',
      caption:
        'Over-alignment: Σ c_j c_k |cos(w_j, w_k)| / Σ c_j c_k over pairs j ≠ k, c_j = |a_j|·‖w_j‖ the neuron’s contribution, for the trained neurons and for the same net’s initial random neurons.',
      spec: lineChart({ title: 'Weighted neuron alignment vs feature learning strength', data: withBaseline(main, 'neurons.weightedAbsPairCosine'), x, y: { field: 'value', title: 'weighted mean |cos|' }, color: { field: 'neurons', title: 'neurons' }, band: true }),
    },
    {
      id: 'directions',
      caption: `Over-alignment: the effective number of directions 1/Σ p_c² over clusters of neurons within 10° (p_c a cluster's share of the contribution), trained and random${teacherWidth ? `; dashed: the teacher's ${teacherWidth}` : ''}.`,
      spec: lineChart({
        title: 'Effective directions vs feature learning strength',
        data: withBaseline(main, 'neurons.effectiveDirections'),
        x,
        y: { field: 'value', title: 'effective directions (log)', log: true },
        color: { field: 'neurons', title: 'neurons' },
        band: true,
        ...(teacherWidth ? { theory: { data: meanBy(main, FLS, 'test_error').map((p) => ({ [FLS]: p.x, value: teacherWidth })), label: 'the teacher’s directions' } } : {}),
      }),
    },
    {
      id: 'top2',
      caption: 'Over-alignment: the share of the contribution in the two heaviest direction clusters, trained and random.',
      spec: lineChart({ title: 'Top-2 direction mass vs feature learning strength', data: withBaseline(main, 'neurons.top2DirectionMass'), x, y: { field: 'value', title: 'top-2 direction mass' }, color: { field: 'neurons', title: 'neurons' }, band: true }),
    },
    {
      id: 'distance',
      caption: 'The lazy side: relative distance from initialization ‖θ_T − θ₀‖/‖θ₀‖ at the stop.',
      spec: lineChart({ title: 'Distance from init vs feature learning strength', data: numericRows(main, ['distanceFromInit']), x, y: { field: 'distanceFromInit', title: '‖θ_T − θ₀‖ / ‖θ₀‖ (log)', log: true }, band: true }),
    },
  ];
  // Keep the figures whose measure the trials recorded (the deep-net profiles have no neuron measures).
  const drawn = figures.filter((f) => ((f.spec as { datasets?: { measured?: unknown[] } }).datasets?.measured?.length ?? 0) > 0);
  const targets = data.filter((r) => r.part === 'target-risk');
  if (targets.length > 0) {
    drawn.push({
      id: 'target_risk',
      caption: 'Sensitivity to the target training risk: the same sweep stopped at other targets (the flipped points cost at least 0.1·log 2 ≈ 0.069 unless fitted).',
      spec: lineChart({ title: 'Test error vs FLS at other target risks', data: targets, x, y: { field: 'test_error', title: 'test error' }, color: { field: 'training.stop.targetTrainRisk', title: 'target risk' }, band: true }),
    });
  }
  const summary: string[] = [];
  for (const part of [...new Set(data.map((r) => r.part as string))]) {
    if (part === 'target-risk') continue;
    const rows = data.filter((r) => r.part === part);
    const curve = flsCurve(rows);
    if (!curve) continue;
    summary.push(
      `${part} (${knobOf(rows[0])}): optimum at FLS ${formatValue(curve.optimum.fls)}, test error ${formatMeanSe(curve.optimum.testError)}${curve.interior ? ' (interior)' : ' (at an end of the sweep: no interior optimum)'}.`,
      sideSentence('  lazy end', curve.lazy, curve.optimum.fls),
      sideSentence('  rich end', curve.rich, curve.optimum.fls),
    );
    if (part === mainPart && curve.noiseFitted.length > 0) {
      const means = curve.noiseFitted.map((p) => p.mean);
      const ends = pairedAt(rows, 'overfitting.noiseFitted', curve.lazy.fls, curve.rich.fls);
      summary.push(
        `  over-fitting: fitted share of the flipped points, smallest minus largest FLS ${formatMeanSe(ends)} paired over ${ends.count} seeds (${ends.above} higher, ${ends.below} lower); ${nonIncreasing(means) ? 'the means fall monotonically with FLS' : 'the means do not fall monotonically with FLS'} (${means.map(formatValue).join(', ')}).`,
      );
      const largest = rows.filter((r) => r[FLS] === curve.rich.fls);
      if (!largest.some((r) => typeof r['neurons.effectiveDirections'] === 'number')) continue;
      const stat = (field: string) => formatMeanSe(meanSe(largest.map((r) => r[field]).filter((v): v is number => typeof v === 'number')));
      summary.push(
        `  over-alignment at the largest FLS: effective directions ${stat('neurons.effectiveDirections')} (random neurons ${stat('neurons.random.effectiveDirections')}${teacherWidth ? `; teacher ${teacherWidth}` : ''}), distinct ${stat('neurons.distinctDirections')} (random ${stat('neurons.random.distinctDirections')}), top-2 mass ${stat('neurons.top2DirectionMass')} (random ${stat('neurons.random.top2DirectionMass')}), weighted |cos| ${stat('neurons.weightedAbsPairCosine')} (random ${stat('neurons.random.weightedAbsPairCosine')}).`,
      );
    }
  }
  const agreement = knobAgreement(data);
  if (agreement.twins > 0)
    summary.push(`the two knobs: ${agreement.equal} of ${agreement.twins} output-multiplier trials (α = λ², co-scaled learning rate) stopped at the same step with the same test error (to 1e-12) as the init-scale trial of the same seed and FLS.`);
  for (const target of [...new Set(targets.map((r) => r['training.stop.targetTrainRisk']))]) {
    const curve = flsCurve(targets.filter((r) => r['training.stop.targetTrainRisk'] === target));
    if (!curve) continue;
    summary.push(
      `target risk ${String(target)}: optimum at FLS ${formatValue(curve.optimum.fls)}, test error ${formatMeanSe(curve.optimum.testError)}${curve.interior ? ' (interior)' : ' (at an end of the sweep)'}; fitted share of the flipped points ${curve.noiseFitted.map((p) => formatValue(p.mean)).join(', ')} by increasing FLS.`,
      sideSentence('  lazy end', curve.lazy, curve.optimum.fls),
      sideSentence('  rich end', curve.rich, curve.optimum.fls),
    );
  }
  if (data.length > 0) {
    const target = (input.spec.base.training as { stop?: { targetTrainRisk?: number } } | undefined)?.stop?.targetTrainRisk;
    summary.push(`${data.length} trials; stopped at the target training risk ${target ?? '(none)'}; the optimum is the strength of least mean test error, so each side's difference is measured against a selected point.`);
  }
  return { title: input.spec.report.title ?? input.name, summary, figures: drawn, table: input.rows };
}
