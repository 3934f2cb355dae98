/**
 * Tables 1–2 of Oymak et al. (2019) in their own quantity: the norm ratio ‖Π_I(y)‖/‖y‖ of the label vector
 * on the information space spanned by the Jacobian's top-k left singular vectors (k = 50 in the paper), at
 * initialization and after training, for clean and corrupted labels, beside a random vector's √(k/(n·K));
 * and the residual split over training on the *final* Jacobian's spaces. Every comparison is paired by
 * seed: a seed fixes the init and the images, the noise level only the labels.
 */
import { lineChart, type Datum } from '../../report/charts.js';
import { formatValue, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, formatPaired, meanSe, type MeanSe, pairedBySeed, type PairedDifference } from '../../report/statistics.js';

/** The paper's Tables 1 (clean) and 2 (50 % corrupted): ‖Π_I(y)‖/‖y‖ on the top 50 singular vectors, CIFAR-10, ResNet-20. */
export const PAPER_NORM_RATIOS: ReadonlyMap<number, { readonly initial: number; readonly final: number }> = new Map([
  [0, { initial: 0.381, final: 0.987 }],
  [0.5, { initial: 0.328, final: 0.896 }],
]);

export interface NormRatioRow {
  readonly noise: number;
  readonly initial: MeanSe;
  readonly final: MeanSe;
  /** √(rank/(n·K)): a random vector's norm ratio on a space of that rank. */
  readonly chance: number;
  /** final − initial, paired by seed (> 0: the Jacobian adapts to the labels). */
  readonly growth: PairedDifference;
}

export interface NormRatioFinding {
  readonly rank: number;
  readonly rows: readonly NormRatioRow[];
  /** Clean minus the noisiest level's ratio, paired by seed, at init and at the end. */
  readonly cleanOverNoisy: { readonly noise: number; readonly initial: PairedDifference; readonly final: PairedDifference } | null;
  /** Residual parts on the final Jacobian relative to their start, for the figure. */
  readonly residualOnFinal: Datum[];
  /** Trials whose ‖Π_I r‖ (final J) halves before ‖Π_N r‖ does, of those recorded. */
  readonly informationFirst: { readonly count: number; readonly of: number };
}

const NOISE = 'data.labelNoise.flip';
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/** The experiment's Jacobian metric parameters as its spec gives them (defaults not filled in). */
export function jacobianParams(input: ReportInput): { cutoff?: string; relativeCutoff?: number; absoluteCutoff?: number; rank?: number } {
  return (input.trials[0]?.spec?.metrics.find((m) => m.name === 'jacobian')?.params ?? {}) as ReturnType<typeof jacobianParams>;
}

/** The information space's rank when the experiment cuts it by rank (cutoff "rank"), else null. */
export function rankCutoff(input: ReportInput): number | null {
  const params = jacobianParams(input);
  return params.cutoff === 'rank' && typeof params.rank === 'number' ? params.rank : null;
}

/** The step at which a curve first falls to half its start, or Infinity if it never does. */
export function halvingStep(points: readonly { step: number; value: number }[]): number {
  const start = points[0]?.value;
  if (!(start > 0)) return Infinity;
  return points.find((p) => p.value <= 0.5 * start)?.step ?? Infinity;
}

export function normRatioFinding(input: ReportInput, rank: number): NormRatioFinding {
  const finished = input.rows.filter((r) => r.status === 'completed');
  const noiseOf = (r: Record<string, unknown>) => (typeof r[NOISE] === 'number' ? (r[NOISE] as number) : 0);
  const noises = [...new Set(finished.map(noiseOf))].sort((a, b) => a - b);
  const ratios = (noise: number, field: string) => new Map(finished.filter((r) => noiseOf(r) === noise).map((r) => [r.seed as number, Math.sqrt(num(r[field]))]));
  const INITIAL = 'jacobian.labelEnergy.information';
  const FINAL = 'jacobian.final.labelEnergy.information';
  const rows = noises.map((noise): NormRatioRow => {
    const own = finished.filter((r) => noiseOf(r) === noise);
    const chance = meanSe(own.map((r) => num(r['jacobian.chanceEnergy']))).mean;
    return { noise, initial: meanSe([...ratios(noise, INITIAL).values()]), final: meanSe([...ratios(noise, FINAL).values()]), chance: Math.sqrt(chance), growth: pairedBySeed(ratios(noise, FINAL), ratios(noise, INITIAL)) };
  });
  const noisiest = noises[noises.length - 1];
  const cleanOverNoisy =
    noises.length > 1 && noises[0] === 0
      ? { noise: noisiest, initial: pairedBySeed(ratios(0, INITIAL), ratios(noisiest, INITIAL)), final: pairedBySeed(ratios(0, FINAL), ratios(noisiest, FINAL)) }
      : null;
  const residualOnFinal: Datum[] = [];
  let informationFirst = 0;
  let of = 0;
  for (const trial of finished) {
    const series = (name: string) => input.store.series(trial.trial_id as string).find((s) => s.name === name)?.values ?? [];
    const steps = series('jacobian.onFinal.steps');
    const parts = { 'Π_I r': series('jacobian.onFinal.residual.information'), 'Π_N r': series('jacobian.onFinal.residual.nuisance') };
    if (!steps.length || parts['Π_I r'].length !== steps.length) continue;
    of++;
    const curve = (values: readonly number[]) => steps.map((step, i) => ({ step, value: values[i] }));
    if (halvingStep(curve(parts['Π_I r'])) < halvingStep(curve(parts['Π_N r']))) informationFirst++;
    for (const [part, values] of Object.entries(parts)) {
      if (!(values[0] > 0)) continue;
      steps.forEach((step, i) => step > 0 && residualOnFinal.push({ step, relative: values[i] / values[0], series: `${part}, ${Math.round(noiseOf(trial) * 100)}% flipped`, trial: trial.trial_id as string }));
    }
  }
  return { rank, rows, cleanOverNoisy, residualOnFinal, informationFirst: { count: informationFirst, of } };
}

const percent = (noise: number) => `${Math.round(noise * 100)}% flipped`;

export function normRatioSummary(f: NormRatioFinding): string[] {
  const out = f.rows.map((r) => {
    const paper = PAPER_NORM_RATIOS.get(r.noise);
    const beside = paper ? `; the paper (CIFAR-10, ResNet-20) ${paper.initial} → ${paper.final}` : '';
    return `‖Π_I(y)‖/‖y‖ on the top ${f.rank} singular vectors, ${percent(r.noise)}: ${formatMeanSe(r.initial)} at init → ${formatMeanSe(r.final)} after training (chance √(${f.rank}/(n·K)) = ${formatValue(r.chance)}${beside}); final − init ${formatPaired(r.growth, 'higher at the end')}.`;
  });
  if (f.cleanOverNoisy) {
    const c = f.cleanOverNoisy;
    out.push(`clean minus ${percent(c.noise)}, paired by seed: at init ${formatPaired(c.initial, 'higher for clean labels')}; after training ${formatPaired(c.final, 'higher for clean labels')}.`);
  }
  if (f.informationFirst.of) out.push(`on the final Jacobian's spaces the residual's information part halves before its nuisance part in ${f.informationFirst.count} of ${f.informationFirst.of} trials.`);
  return out;
}

export function normRatioFigures(f: NormRatioFinding): ReportContent['figures'] {
  if (!f.residualOnFinal.length) return [];
  return [
    {
      id: 'residual_on_final',
      caption: `The residual r_τ = f(X) − y at each recorded step split by the final Jacobian's top ${f.rank} left singular vectors (the paper's reading): ‖Π_I r_τ‖ and ‖Π_N r_τ‖, each relative to its start; mean ± SE over seeds.`,
      spec: lineChart({ title: 'Residual on the final Jacobian’s spaces', data: f.residualOnFinal, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'relative', title: '‖Π r_τ‖ / ‖Π r_0‖ (log)', log: true }, color: { field: 'series', title: 'part, labels' }, band: true, points: false }),
    },
  ];
}
