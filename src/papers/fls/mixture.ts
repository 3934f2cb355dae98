/**
 * Seed 000 in its own data model (fls --profile mixture / mixture-quick): the symmetric Gaussian mixture
 * x = κ·y·s + σ·z without label noise, a two-layer ReLU net from a balanced init of scale α, logistic loss,
 * gradient descent with a small step (the paper's gradient flow), stopped at a target training risk. Read per run
 * (metrics/mixture.ts for the angles):
 * - phase 1 ends at t₁, the first recorded time (steps × η) at which the training loss falls 1 % below its start
 *   (log 2 from a small init: the net has not yet fit anything while its neurons rotate). The paper:
 *   t₁ = Θ(log(1/α)), so t₁ against ln(1/α) is a line of positive slope (fitted per seed over the small inits);
 * - the closest approach of the neurons to the empirical class means, min_t angleToMean(t): the paper's angle to
 *   x̄₊ shrinks like √α, a slope ½ of log angle on log α (fitted per seed; reconstructed: which time the paper
 *   reads the angle at could not be recovered, the closest approach is where phase 1 leaves it);
 * - at the stop: the neurons' angle to x̄± and to ±s beside the means' own angle to ±s (over-alignment: the neurons
 *   sit on the empirical means, so they inherit the means' error), the predictor's angle to s, the test error.
 * The paper's own OA/OF decomposition could not be read; these are the parts of it the text names.
 */
import erf from '@stdlib/math-base-special-erf';
import { lineChart, type Datum } from '../../report/charts.js';
import { curveData, formatValue, groupBy, numericRows, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, formatPaired, meanSe, type MeanSe, pairedBySeed, type PairedDifference, slope } from '../../report/statistics.js';

export const MIXTURE_PART = 'mixture';

/** One run's readings. */
export interface MixtureRun {
  readonly trial: string;
  readonly seed: number;
  readonly n: number;
  readonly initScale: number;
  /** Phase 1's end (time), or null when the loss fell 1 % at the first recorded step (no phase 1: a large init). */
  readonly phaseOneEnd: number | null;
  readonly closestApproach: number | null;
  readonly final: Datum;
}

/** Per run: t₁ and the closest approach, read off its recorded curve. */
export function mixtureRuns(rows: readonly Datum[], curves: readonly Datum[], baseN: number): MixtureRun[] {
  const byTrial = groupBy(curves, (c) => String(c.trial));
  return rows
    .filter((d) => d.part === MIXTURE_PART && typeof d['model.initScale'] === 'number' && d.status === 'completed')
    .map((d) => {
      const curve = (byTrial.get(String(d.trial_id)) ?? []).filter((c) => typeof c.trainLoss === 'number').sort((a, b) => (a.step as number) - (b.step as number));
      const start = curve[0]?.trainLoss as number | undefined;
      const end = start === undefined ? undefined : curve.find((c) => (c.trainLoss as number) <= 0.99 * start);
      const angles = curve.map((c) => c['mixture.angleToMean']).filter((v): v is number => typeof v === 'number');
      return {
        trial: String(d.trial_id),
        seed: Number(d.seed ?? 0),
        n: typeof d['data.n'] === 'number' ? d['data.n'] : baseN,
        initScale: d['model.initScale'] as number,
        phaseOneEnd: end && (end.step as number) > 1 ? (end.time as number) : null,
        closestApproach: angles.length > 0 ? Math.min(...angles) : null,
        final: d,
      };
    });
}

export interface MixtureFinding {
  readonly runs: MixtureRun[];
  /** Per n: the slope of t₁ on ln(1/α) per seed (over the inits with a phase 1), mean ± SE over seeds. */
  readonly phaseOne: (MeanSe & { readonly n: number })[];
  /** Per n: the slope of log₁₀ (closest approach) on log₁₀ α per seed, mean ± SE (the paper: ½). */
  readonly approach: (MeanSe & { readonly n: number })[];
  /** Per n: final angle to the means at the largest init with a phase 1 minus at the smallest, paired by seed (> 0: the small init sits closer). */
  readonly overAlignment: (PairedDifference & { readonly n: number; readonly from: number; readonly to: number })[];
  /**
   * Per n: the init of least mean predictor angle to s picked on the lower half of the seeds, then on the upper half
   * each end's angle minus the picked one's, paired by seed (> 0 on both sides: an interior optimum).
   */
  readonly optimum: { readonly n: number; readonly picked: number; readonly pickedOn: number[]; readonly testedOn: number[]; readonly rich: PairedDifference; readonly lazy: PairedDifference; readonly from: number; readonly to: number }[];
}

export function mixtureFinding(runs: readonly MixtureRun[]): MixtureFinding {
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const perSeedSlope = (own: readonly MixtureRun[], point: (r: MixtureRun) => readonly [number, number] | null) => {
    const slopes: number[] = [];
    for (const seed of new Set(own.map((r) => r.seed))) {
      const points = own.filter((r) => r.seed === seed).flatMap((r) => {
        const p = point(r);
        return p ? [p] : [];
      });
      const b = slope(points);
      if (b !== null) slopes.push(b);
    }
    return meanSe(slopes);
  };
  const phaseOne = ns.map((n) => ({ n, ...perSeedSlope(runs.filter((r) => r.n === n), (r) => (r.phaseOneEnd !== null ? [Math.log(1 / r.initScale), r.phaseOneEnd] : null)) }));
  const approach = ns.map((n) => ({
    n,
    ...perSeedSlope(runs.filter((r) => r.n === n), (r) => (r.phaseOneEnd !== null && r.closestApproach !== null && r.closestApproach > 0 ? [Math.log10(r.initScale), Math.log10(r.closestApproach)] : null)),
  }));
  const overAlignment = ns.map((n) => {
    const own = runs.filter((r) => r.n === n && r.phaseOneEnd !== null);
    const scales = [...new Set(own.map((r) => r.initScale))].sort((a, b) => a - b);
    const [from, to] = [scales[0], scales[scales.length - 1]];
    const at = (scale: number) => new Map(own.filter((r) => r.initScale === scale && typeof r.final['mixture.angleToMean'] === 'number').map((r) => [r.seed, r.final['mixture.angleToMean'] as number]));
    return { n, from, to, ...pairedBySeed(at(to), at(from)) };
  });
  const optimum = ns.flatMap((n) => {
    const own = runs.filter((r) => r.n === n && typeof r.final['mixture.predictorToBayes'] === 'number');
    const seeds = [...new Set(own.map((r) => r.seed))].sort((a, b) => a - b);
    const half = Math.floor(seeds.length / 2);
    const [pickedOn, testedOn] = [seeds.slice(0, half), seeds.slice(half)];
    const scales = [...new Set(own.map((r) => r.initScale))].sort((a, b) => a - b);
    if (half < 1 || scales.length < 3) return [];
    const angle = (r: MixtureRun) => r.final['mixture.predictorToBayes'] as number;
    const meanOn = (scale: number, on: readonly number[]) => meanSe(own.filter((r) => r.initScale === scale && on.includes(r.seed)).map(angle)).mean;
    const picked = scales.reduce((best, scale) => (meanOn(scale, pickedOn) < meanOn(best, pickedOn) ? scale : best));
    const at = (scale: number) => new Map(own.filter((r) => r.initScale === scale && testedOn.includes(r.seed)).map((r) => [r.seed, angle(r)]));
    const [from, to] = [scales[0], scales[scales.length - 1]];
    return [{ n, picked, pickedOn, testedOn, from, to, rich: pairedBySeed(at(from), at(picked)), lazy: pairedBySeed(at(to), at(picked)) }];
  });
  return { runs: [...runs], phaseOne, approach, overAlignment, optimum };
}

/** Φ(−κ/σ): the Bayes classifier's error on the mixture. */
export function mixtureBayesError(kappa: number, sigma: number): number {
  return 0.5 * (1 - erf(kappa / sigma / Math.SQRT2));
}

export function mixtureReport(input: ReportInput): ReportContent {
  const curves = curveData(input, ['trainLoss', 'mixture.angleToMean', 'mixture.angleToBayes', 'mixture.predictorToBayes']);
  const data = (input.spec.base.data ?? {}) as { mixture?: { kappa?: number; sigma?: number }; inputDim?: number; n?: number };
  const runs = mixtureRuns(numericRows(input.rows, ['model.initScale']), curves, data.n ?? 0);
  const finding = mixtureFinding(runs);
  const kappa = data.mixture?.kappa ?? 1;
  const sigma = data.mixture?.sigma ?? 1;
  const phaseData = runs.filter((r) => r.phaseOneEnd !== null).map((r) => ({ 'model.initScale': r.initScale, phaseOneEnd: r.phaseOneEnd, 'data.n': r.n }));
  const approachData = runs.filter((r) => r.closestApproach !== null && r.closestApproach > 0).map((r) => ({ 'model.initScale': r.initScale, closestApproach: r.closestApproach, 'data.n': r.n }));
  const finals = runs.flatMap((r) =>
    (['mixture.angleToMean', 'mixture.angleToBayes', 'mixture.meanToBayes', 'mixture.predictorToBayes'] as const).flatMap((field) =>
      typeof r.final[field] === 'number' ? [{ 'model.initScale': r.initScale, angle: r.final[field], quantity: `${field.replace('mixture.', '')} (n = ${r.n})` }] : [],
    ),
  );
  const x = { field: 'model.initScale', title: 'init scale α (log)', log: true };
  const figures = [
    {
      id: 'phase_one',
      caption: 'Phase 1’s length against the init scale: the first time (steps × η) at which the training loss falls 1 % below its start, per n (mean ± SE over seeds). The paper: t₁ = Θ(log(1/α)), a straight line on this log-x axis.',
      spec: lineChart({ title: 'End of phase 1 vs init scale', data: phaseData, x, y: { field: 'phaseOneEnd', title: 'phase 1 ends at time t₁' }, color: { field: 'data.n', title: 'n', type: 'nominal' }, band: true }),
    },
    {
      id: 'closest_approach',
      caption: 'The neurons’ closest approach to the empirical class mean of their sign (contribution-weighted angle, degrees) over the run, against α (log-log). The paper: the angle to x̄₊ shrinks like √α, slope ½.',
      spec: lineChart({ title: 'Closest approach to x̄± vs init scale', data: approachData, x, y: { field: 'closestApproach', title: 'min angle to x̄± (degrees, log)', log: true }, color: { field: 'data.n', title: 'n', type: 'nominal' }, band: true }),
    },
    {
      id: 'final_angles',
      caption: `At the stop: the neurons’ angle to the class means (angleToMean) and to ±s (angleToBayes), the means’ own angle to ±s (meanToBayes), and the predictor β_f = Σ a_j w_j’s angle to s (predictorToBayes), degrees, mean ± SE over seeds. Over-alignment: from a small init the neurons sit on the empirical means and inherit their angle to s. Random directions sit at 90°.`,
      spec: lineChart({ title: 'Angles at the stop vs init scale', data: finals, x, y: { field: 'angle', title: 'angle (degrees)' }, color: { field: 'quantity', title: 'quantity' }, band: true }),
    },
  ];
  const summary = [
    `setting: the symmetric Gaussian mixture x = κ·y·s + σ·z with κ = ${kappa}, σ = ${sigma}${data.inputDim ? `, d = ${data.inputDim}` : ''} (Bayes error Φ(−κ/σ) = ${formatValue(mixtureBayesError(kappa, sigma))}), no label noise, a two-layer ReLU net from a balanced init, logistic loss, gradient descent stopped at the target training risk.`,
    ...finding.phaseOne.map((p) => `n = ${p.n}: phase 1’s end t₁ against ln(1/α), slope per seed ${formatMeanSe(p)} (${p.count} seeds; the paper: t₁ = Θ(log(1/α)), a positive slope${p.se > 0 ? `, t = ${(p.mean / p.se).toFixed(1)}` : ''}).`),
    ...finding.approach.map((p) => `n = ${p.n}: log₁₀ closest approach to x̄± against log₁₀ α, slope per seed ${formatMeanSe(p)} (${p.count} seeds; the paper: ½).`),
    ...finding.overAlignment.map((o) => `n = ${o.n}: the neurons’ final angle to x̄± at α = ${o.to} minus at α = ${o.from}: ${formatPaired(o, 'farther at the larger init')} degrees.`),
    ...finding.optimum.map(
      (o) =>
        `n = ${o.n}: the predictor’s angle to s, least at α = ${o.picked} on seeds ${o.pickedOn.join(', ')}; on seeds ${o.testedOn.join(', ')} the small-init end (α = ${o.from}) minus it ${formatPaired(o.rich, 'larger at the end')}° and the large-init end (α = ${o.to}) minus it ${formatPaired(o.lazy, 'larger at the end')}° (the paper: an optimal FLS between over-alignment and over-fitting).`,
    ),
    ...[...new Set(runs.map((r) => r.n))].map((n) => {
      const own = runs.filter((r) => r.n === n);
      const scales = [...new Set(own.map((r) => r.initScale))].sort((a, b) => a - b);
      const at = (scale: number, field: string) => meanSe(own.filter((r) => r.initScale === scale && typeof r.final[field] === 'number').map((r) => r.final[field] as number));
      return `n = ${n}, at the stop by α: ${scales.map((a) => `${a}: neurons to ±s ${formatMeanSe(at(a, 'mixture.angleToBayes'))}°, predictor to s ${formatMeanSe(at(a, 'mixture.predictorToBayes'))}°, test error ${formatMeanSe(at(a, 'test_error'))}`).join('; ')} (the means themselves sit ${formatMeanSe(at(scales[0], 'mixture.meanToBayes'))}° from ±s).`;
    }),
  ];
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
