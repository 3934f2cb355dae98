/**
 * Oymak et al. (2019): the Jacobian's singular values at initialization (a few large, many small),
 * the share of the label energy in its top-s singular directions for clean and noisy labels, and the
 * training and test error over time — noisy labels lie in the nuisance space and are fitted late.
 */
import { lineChart, type Datum } from '../charts.js';
import { curveData, formatValue, meanBy, numericRows, type ReportInput } from '../data.js';
import type { ReportContent } from '../html.js';

const NOISE = 'data.labelNoise.flip';

export function labelEnergyData(input: ReportInput): Datum[] {
  const out: Datum[] = [];
  for (const r of numericRows(input.rows, [NOISE])) {
    for (const [key, value] of Object.entries(r)) {
      const m = /^jacobian\.labelEnergy\.top(\d+)$/.exec(key);
      if (m && typeof value === 'number') out.push({ [NOISE]: r[NOISE], s: Number(m[1]), energy: value, trial: r.trial_id });
    }
  }
  return out;
}

export interface JacobianFinding {
  readonly k: number;
  readonly energyByNoise: { x: number; mean: number }[];
  /** For the noisiest level: the step of the lowest mean test error, that error, and the final one. */
  readonly earlyStop: { noise: number; step: number; best: number; final: number } | null;
}

export function jacobianFinding(energy: readonly Datum[], curves: readonly Datum[]): JacobianFinding {
  const ks = [...new Set(energy.map((e) => e.s as number))].sort((a, b) => a - b);
  const k = ks.includes(10) ? 10 : ks[Math.floor(ks.length / 2)];
  const energyByNoise = meanBy(
    energy.filter((e) => e.s === k),
    NOISE,
    'energy',
  );
  const noises = [...new Set(curves.map((c) => c[NOISE] as number))].sort((a, b) => a - b);
  const noisiest = noises[noises.length - 1];
  let earlyStop: JacobianFinding['earlyStop'] = null;
  if (noisiest !== undefined && noisiest > 0) {
    const byStep = meanBy(
      curves.filter((c) => c[NOISE] === noisiest),
      'step',
      'testError',
    );
    const best = byStep.reduce((a, b) => (b.mean < a.mean ? b : a));
    earlyStop = { noise: noisiest, step: best.x, best: best.mean, final: byStep[byStep.length - 1].mean };
  }
  return { k, energyByNoise, earlyStop };
}

export function jacobianReport(input: ReportInput): ReportContent {
  const energy = labelEnergyData(input);
  const curves = curveData(input, ['trainError', 'testError', 'jacobian.residualEnergy.information']).filter((c) => (c.step as number) > 0);
  const color = { field: NOISE, title: 'flipped labels', type: 'nominal' as const };
  const clean = input.trials.find((t) => t.status === 'completed' && (t.point[NOISE] ?? 0) === 0) ?? input.trials.find((t) => t.status === 'completed');
  const spectrum: Datum[] = clean
    ? input.store
        .series(clean.id)
        .filter((s) => s.name === 'jacobian.singularValues' && s.step === 0)
        .flatMap((s) => s.values.map((v, i) => ({ index: i + 1, singularValue: v })))
        .filter((d) => d.singularValue > 0)
    : [];
  const figures = [
    {
      id: 'spectrum',
      caption: 'Singular values of the Jacobian of the training outputs at initialization: a few large ones and a long tail (the information space is above 10% of the largest).',
      spec: lineChart({ title: 'Jacobian singular values at init', data: spectrum, x: { field: 'index', title: 'index (log)', log: true }, y: { field: 'singularValue', title: 'singular value (log)', log: true }, points: false }),
    },
    {
      id: 'label_energy',
      caption: 'Share of the label vector’s energy in the top-s left singular vectors of the initial Jacobian, by the fraction of flipped labels (mean ± std over seeds).',
      spec: lineChart({ title: 'Label energy in the top-s singular directions', data: energy, x: { field: 's', title: 's (log)', log: true }, y: { field: 'energy', title: '‖Π_s y‖² / ‖y‖²', domain: [0, 1] }, color, band: true }),
    },
    {
      id: 'test_error',
      caption: 'Test error over training: with flipped labels it reaches its minimum early and rises as the nuisance space (the noise) is fitted — early stopping helps.',
      spec: lineChart({ title: 'Test error over training', data: curves, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'testError', title: 'test error' }, color, band: true, points: false }),
    },
    {
      id: 'train_error',
      caption: 'Training error over training: clean labels are fitted fast, flipped ones late.',
      spec: lineChart({ title: 'Training error over training', data: curves, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'trainError', title: 'training error' }, color, band: true, points: false }),
    },
  ];
  const f = jacobianFinding(energy, curveData(input, ['testError']));
  const summary: string[] = [];
  if (f.energyByNoise.length) {
    summary.push(`label energy in the top-${f.k} singular directions: ${f.energyByNoise.map((e) => `${formatValue(e.mean)} at ${e.x * 100}% flipped`).join(', ')}.`);
    if (spectrum.length) summary.push(`Jacobian at init: largest singular value ${formatValue(spectrum[0].singularValue as number)}, the ${spectrum.length}-th ${formatValue(spectrum[spectrum.length - 1].singularValue as number)}.`);
    if (f.earlyStop) summary.push(`with ${f.earlyStop.noise * 100}% flipped labels the test error is lowest at step ${f.earlyStop.step} (${formatValue(f.earlyStop.best)}) and ends at ${formatValue(f.earlyStop.final)}: early stopping helps.`);
  }
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
