/**
 * Oymak et al. (2019): the Jacobian's spectrum at initialization and after training; the information
 * space I cut at the largest spectral gap; the share of the clean labels, the noisy labels and the
 * label noise (its mean removed: orthogonalized against the clean labels, and the all-ones vector for one-hot rows) in I beside chance rank/(n·K); the residual's
 * parts ‖Π_I r_τ‖ and ‖Π_N r_τ‖ over training (I fitted fast, N late); test error with its early
 * stopping point; the residual's top singular coordinates against the linearized (1 − ηλ_s²/n)^τ.
 */
import { lineChart, type Datum } from '../../report/charts.js';
import { curveData, formatValue, meanBy, settingText, specOf, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { CLUSTER_PART, clusterSpectrumReport } from './clusterSpectrum.js';
import { halvingStep, jacobianParams, normRatioFigures, normRatioFinding, normRatioSummary, rankCutoff } from './normRatios.js';
import { formatMeanSe, formatPaired, meanSe, type MeanSe, pairedDifference, type PairedDifference } from '../../report/statistics.js';

const NOISE = 'data.labelNoise.flip';

/** Final scalar metrics of a finished trial, with its noise level and seed. */
interface TrialRow {
  readonly trial: string;
  readonly noise: number;
  readonly seed: number;
  readonly values: Record<string, unknown>;
}

function finishedRows(input: ReportInput): TrialRow[] {
  return input.rows
    .filter((r) => r.status === 'completed' || r.status === 'diverged')
    .map((r) => ({ trial: r.trial_id as string, noise: typeof r[NOISE] === 'number' ? (r[NOISE] as number) : 0, seed: typeof r.seed === 'number' ? (r.seed as number) : 0, values: r }));
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

export interface NoiseLevelFinding {
  readonly noise: number;
  readonly rank: MeanSe;
  /** rank/(n·K): the energy fraction of a random vector in I. */
  readonly chance: MeanSe;
  /** The labels trained on (with their noise). */
  readonly labelEnergy: MeanSe;
  readonly cleanLabelEnergy: MeanSe;
  /** y − y_clean orthogonalized against y_clean, and as it is. */
  readonly noiseEnergy: MeanSe | null;
  readonly rawNoiseEnergy: MeanSe | null;
  /** Seeds whose ‖Π_I r‖ halves before ‖Π_N r‖ does, of those with both parts recorded. */
  readonly informationFirst: { readonly count: number; readonly of: number };
  /** Final minus lowest test error over training, paired within each seed. */
  readonly earlyStoppingGain: PairedDifference;
  /** Mean test error curve's minimum (step, value) and its final value. */
  readonly earlyStop: { readonly step: number; readonly best: number; readonly final: number } | null;
  /** Label energy at the initial rank: after minus before training, paired by seed. */
  readonly adaptation: PairedDifference;
}

export interface JacobianFinding {
  /** How the information space was cut, in words (from the trials' metric parameters). */
  readonly rule: string;
  /** λ_r/λ_{r+1} at the chosen rank, clean labels: near 1 means there is no gap to cut at. */
  readonly gapRatio: MeanSe;
  readonly levels: readonly NoiseLevelFinding[];
  /** Largest relative deviation of the top singular coordinates from the linearized prediction, per noise level. */
  readonly linearizedDeviation: { noise: number; value: MeanSe }[];
}


function byTrial(curves: readonly Datum[]): Map<string, Datum[]> {
  const out = new Map<string, Datum[]>();
  for (const c of curves) {
    const list = out.get(c.trial as string) ?? [];
    list.push(c);
    out.set(c.trial as string, list);
  }
  for (const list of out.values()) list.sort((a, b) => (a.step as number) - (b.step as number));
  return out;
}

export function jacobianFinding(input: ReportInput): JacobianFinding {
  const rows = finishedRows(input);
  const curves = byTrial(curveData(input, ['testError', 'jacobian.residual.information', 'jacobian.residual.nuisance']));
  const noises = [...new Set(rows.map((r) => r.noise))].sort((a, b) => a - b);
  const levels = noises.map((noise): NoiseLevelFinding => {
    const own = rows.filter((r) => r.noise === noise);
    const stat = (field: string) => meanSe(own.map((r) => num(r.values[field])));
    const optional = (field: string) => (own.some((r) => typeof r.values[field] === 'number') ? stat(field) : null);
    let informationFirst = 0;
    let withBoth = 0;
    const gains: [number, number][] = [];
    for (const r of own) {
      const c = curves.get(r.trial) ?? [];
      const part = (field: string) => c.filter((d) => typeof d[field] === 'number').map((d) => ({ step: d.step as number, value: d[field] as number }));
      const info = part('jacobian.residual.information');
      const nuisance = part('jacobian.residual.nuisance');
      if (info.length && nuisance.length) {
        withBoth++;
        if (halvingStep(info) < halvingStep(nuisance)) informationFirst++;
      }
      const test = part('testError');
      if (test.length) gains.push([test[test.length - 1].value, Math.min(...test.map((t) => t.value))]);
    }
    const meanCurve = meanBy(
      [...curves.values()].flat().filter((d) => own.some((r) => r.trial === d.trial)),
      'step',
      'testError',
    );
    const best = meanCurve.length ? meanCurve.reduce((a, b) => (b.mean < a.mean ? b : a)) : null;
    return {
      noise,
      rank: stat('jacobian.informationRank'),
      chance: stat('jacobian.chanceEnergy'),
      labelEnergy: stat('jacobian.labelEnergy.information'),
      cleanLabelEnergy: noise === 0 ? stat('jacobian.labelEnergy.information') : stat('jacobian.cleanLabelEnergy.information'),
      noiseEnergy: optional('jacobian.noiseEnergy.information'),
      rawNoiseEnergy: optional('jacobian.rawNoiseEnergy.information'),
      informationFirst: { count: informationFirst, of: withBoth },
      earlyStoppingGain: pairedDifference(gains),
      earlyStop: best ? { step: best.x, best: best.mean, final: meanCurve[meanCurve.length - 1].mean } : null,
      adaptation: pairedDifference(own.map((r) => [num(r.values['jacobian.final.labelEnergy.atInitialRank']), num(r.values['jacobian.labelEnergy.information'])] as [number, number]).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))),
    };
  });
  const linearizedDeviation = noises.map((noise) => ({ noise, value: meanSe(rows.filter((r) => r.noise === noise).map((r) => num(r.values['jacobian.linearizedDeviation']))) }));
  const clean = rows.filter((r) => r.noise === (noises[0] ?? 0));
  return { rule: cutoffRule(input), gapRatio: meanSe(clean.map((r) => num(r.values['jacobian.gapRatio']))), levels, linearizedDeviation };
}

/** The cutoff rule of the experiment's Jacobian metric, in words. */
function cutoffRule(input: ReportInput): string {
  const params = jacobianParams(input);
  switch (params.cutoff ?? 'gap') {
    case 'rank':
      return `on the top ${params.rank} singular vectors`;
    case 'relative':
      return `at λ ≥ ${params.relativeCutoff ?? 0.1}·λ_1`;
    case 'absolute':
      return `at λ ≥ ${params.absoluteCutoff}`;
    default:
      return 'at the largest spectral gap';
  }
}

const percent = (noise: number) => `${Math.round(noise * 100)}% flipped`;

/** A convolutional net's setting in one line, beside the paper's (a two-layer net's is in the spec's description). */
function settingLine(input: ReportInput): string[] {
  const trial = input.trials.find((t) => t.spec);
  if (!trial) return [];
  const spec = specOf(trial);
  const { model, training } = spec;
  if (model.family !== 'cnn') return [];
  const setting = settingText(spec);
  return [
    `setting: ${setting.net}, output multiplier ${model.outputScale}, square loss on one-hot labels, ${setting.training}, ${training.stop.maxEpochs ?? training.stop.maxSteps} ${training.stop.maxEpochs !== undefined ? 'epochs' : 'steps'}. The paper: ResNet-20 on CIFAR-10 with SGD.${training.optimizer === 'adam' ? ' Without batch norm, SGD on the square loss either diverged (ResNet-20 on 1000 digits, output multiplier 0.1, η ≥ 0.06) or sat near the class means (train error 0.80 after 8 epochs at η = 0.03); Adam substitutes.' : ''}`,
  ];
}

function seriesOf(input: ReportInput, trial: string, name: string): { step: number; values: readonly number[] }[] {
  return input.store
    .series(trial)
    .filter((s) => s.name === name)
    .sort((a, b) => a.step - b.step);
}

export function jacobianReport(input: ReportInput): ReportContent {
  if (input.rows.some((r) => r.part === CLUSTER_PART)) return clusterSpectrumReport(input);
  const rows = finishedRows(input);
  const finding = jacobianFinding(input);
  const clean = rows.filter((r) => r.noise === 0).sort((a, b) => a.seed - b.seed)[0] ?? rows[0];
  const rank = clean ? num(clean.values['jacobian.informationRank']) : NaN;
  const byRank = rankCutoff(input);
  const rankRule = Number.isFinite(rank) ? [{ x: rank, label: `${byRank === null ? 'cutoff' : 'top'}: rank ${rank}` }] : [];
  const ratios = byRank === null ? null : normRatioFinding(input, byRank);

  // Spectrum at init and after training, one trial.
  const spectrum: Datum[] = [];
  if (clean)
    for (const [name, when] of [
      ['jacobian.singularValues', 'at init'],
      ['jacobian.final.singularValues', 'after training'],
    ] as const) {
      const s = seriesOf(input, clean.trial, name)[0];
      s?.values.forEach((v, i) => v > 0 && spectrum.push({ index: i + 1, singularValue: v, when }));
    }

  // Cumulative energy E(s) against s, for the clean labels, the labels trained on and the orthogonalized noise; chance s/(n·K).
  const energy: Datum[] = [];
  let size = 0;
  for (const r of rows) {
    const add = (name: string, label: string) => {
      const s = seriesOf(input, r.trial, name)[0];
      if (!s) return;
      size = s.values.length;
      s.values.forEach((v, i) => energy.push({ s: i + 1, energy: v, vector: label, trial: r.trial }));
    };
    if (r.noise === 0) add('jacobian.labelEnergy.byRank', 'clean labels');
    else {
      add('jacobian.labelEnergy.byRank', `labels, ${percent(r.noise)}`);
      add('jacobian.noiseEnergy.byRank', `noise ⊥ clean, ${percent(r.noise)}`);
    }
  }
  const chance = Array.from({ length: size }, (_, i) => ({ s: i + 1, energy: (i + 1) / size, vector: 'chance s/(n·K)' }));

  // Energy at the automatic cutoff against the noise level.
  const atCutoff: Datum[] = [];
  for (const r of rows) {
    const push = (field: string, vector: string) => typeof r.values[field] === 'number' && atCutoff.push({ [NOISE]: r.noise, energy: r.values[field] as number, vector, trial: r.trial });
    push('jacobian.labelEnergy.information', 'labels trained on');
    push(r.noise === 0 ? 'jacobian.labelEnergy.information' : 'jacobian.cleanLabelEnergy.information', 'clean labels');
    push('jacobian.noiseEnergy.information', 'noise ⊥ clean labels');
    push('jacobian.rawNoiseEnergy.information', 'noise y − y_clean (raw)');
    push('jacobian.chanceEnergy', 'chance rank/(n·K)');
  }

  // Residual parts over training, each relative to its start.
  const residual: Datum[] = [];
  for (const [trial, list] of byTrial(curveData(input, ['jacobian.residual.information', 'jacobian.residual.nuisance']))) {
    const r = rows.find((x) => x.trial === trial);
    if (!r) continue;
    for (const [field, space] of [
      ['jacobian.residual.information', 'Π_I r'],
      ['jacobian.residual.nuisance', 'Π_N r'],
    ] as const) {
      const start = list.find((d) => typeof d[field] === 'number')?.[field] as number | undefined;
      if (!(start && start > 0)) continue;
      for (const d of list) if (typeof d[field] === 'number' && (d.step as number) > 0) residual.push({ step: d.step as number, relative: (d[field] as number) / start, series: `${space}, ${percent(r.noise)}`, trial });
    }
  }

  const curves = curveData(input, ['trainError', 'testError']).filter((c) => (c.step as number) > 0);
  const color = { field: NOISE, title: 'flipped labels', type: 'nominal' as const };
  const noisiest = finding.levels[finding.levels.length - 1];
  const stopRules = noisiest && noisiest.noise > 0 && noisiest.earlyStop ? [{ x: noisiest.earlyStop.step, label: `lowest mean test error, ${percent(noisiest.noise)}` }] : [];

  // Top singular coordinates of the residual over training, relative to their start, against the linearized prediction.
  const modes: Datum[] = [];
  const modesTheory: Datum[] = [];
  if (clean) {
    const measured = seriesOf(input, clean.trial, 'jacobian.residualModes');
    const predicted = seriesOf(input, clean.trial, 'jacobian.residualModes.linearized');
    const start = measured.find((m) => m.step === 0)?.values;
    if (start) {
      const add = (list: typeof measured, out: Datum[]) => {
        // Below 1e-4 of the start the prediction underflows towards 0 and the measurement is rounding and coupling: not drawn.
        for (const m of list)
          if (m.step > 0)
            m.values.forEach((v, s) => {
              const relative = Math.abs(v / start[s]);
              if (Math.abs(start[s]) > 0 && relative >= 1e-4) out.push({ step: m.step, relative, mode: `u_${s + 1}` });
            });
      };
      add(measured, modes);
      add(predicted, modesTheory);
    }
  }

  const seedsNote = 'mean ± standard error over seeds';
  const figures = [
    {
      id: 'spectrum',
      caption: `Singular values λ_s of the Jacobian of the training outputs (one seed, clean labels), at initialization and after training. The information space is cut at the largest gap λ_r/λ_{r+1} (rank ${Number.isFinite(rank) ? rank : '?'}, red rule).`,
      spec: lineChart({ title: 'Jacobian singular values', data: spectrum, x: { field: 'index', title: 'index s (log)', log: true, domain: [1, Math.max(2, spectrum.length / 2)] }, y: { field: 'singularValue', title: 'λ_s (log)', log: true }, color: { field: 'when', title: 'Jacobian' }, points: false, rules: rankRule }),
    },
    {
      id: 'label_energy',
      caption: `Cumulative energy E(s) = ‖Π_s v‖²/‖v‖² on the top-s left singular vectors of the initial Jacobian, for the clean labels, the noisy labels, and the label noise with its mean removed (orthogonalized against the clean labels, and the all-ones vector for one-hot rows); dashed: a random vector's s/(n·K). The red rule is the automatic cutoff. ${seedsNote}.`,
      spec: lineChart({ title: 'Label and noise energy against the rank', data: energy, x: { field: 's', title: 'rank s (log)', log: true, domain: [1, Math.max(2, size)] }, y: { field: 'energy', title: 'E(s)', domain: [0, 1] }, color: { field: 'vector', title: 'vector' }, band: true, points: false, theory: { data: chance, label: 'chance s/(n·K)' }, rules: rankRule }),
    },
    {
      id: 'energy_at_cutoff',
      caption: `Energy in the information space at the automatic cutoff, by the fraction of flipped labels: clean labels far above chance rank/(n·K), the orthogonalized noise at chance; the raw noise y − y_clean carries part of y_clean by construction. ${seedsNote}.`,
      spec: lineChart({ title: 'Energy in the information space', data: atCutoff, x: { field: NOISE, title: 'fraction of flipped labels' }, y: { field: 'energy', title: '‖Π_I v‖² / ‖v‖²', domain: [0, 1] }, color: { field: 'vector', title: 'vector' }, band: true }),
    },
    {
      id: 'residual_split',
      caption: `The residual r_τ = f(X) − y split by the initial Jacobian: ‖Π_I r_τ‖ and ‖Π_N r_τ‖, each relative to its value at initialization. The information part falls fast; the nuisance part, where the label noise lies, slowly. ${seedsNote}.`,
      spec: lineChart({ title: 'Residual in I and in N over training', data: residual, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'relative', title: '‖Π r_τ‖ / ‖Π r_0‖ (log)', log: true }, color: { field: 'series', title: 'part, labels' }, band: true, points: false }),
    },
    {
      id: 'test_error',
      caption: `Test error over training: with flipped labels it reaches its minimum early (red rule) and rises as the nuisance space is fitted: early stopping helps. ${seedsNote}.`,
      spec: lineChart({ title: 'Test error over training', data: curves, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'testError', title: 'test error' }, color, band: true, points: false, rules: stopRules }),
    },
    {
      id: 'train_error',
      caption: `Training error over training: clean labels are fitted fast, flipped ones late. ${seedsNote}.`,
      spec: lineChart({ title: 'Training error over training', data: curves, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'trainError', title: 'training error' }, color, band: true, points: false }),
    },
    {
      id: 'mode_decay',
      caption: 'The residual’s coordinates |⟨u_s, r_τ⟩| on the top singular directions of the initial Jacobian, relative to their start (one seed, clean labels); dashed: the linearized model’s (1 − ηλ_s²/n)^τ. A network follows it while its Jacobian stays near the initial one.',
      spec: lineChart({ title: 'Top singular coordinates of the residual', data: modes, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'relative', title: '|⟨u_s, r_τ⟩ / ⟨u_s, r_0⟩| (log)', log: true }, color: { field: 'mode', title: 'direction' }, points: false, theory: { data: modesTheory, label: 'linearized (1 − ηλ_s²/n)^τ' } }),
    },
  ];
  return {
    title: input.spec.report.title ?? input.name,
    summary: [...settingLine(input), ...(ratios ? normRatioSummary(ratios) : []), ...jacobianSummary(finding), ...cutoffSweepSummary(input)],
    figures: [...figures, ...(ratios ? normRatioFigures(ratios) : [])],
    table: input.rows,
  };
}

/** Fractions of the n·K directions at which the cutoff sweep reads the energies. */
const SWEEP_FRACTIONS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5];

export interface CutoffSweepRow {
  readonly rank: number;
  readonly chance: number;
  readonly clean: MeanSe;
  readonly noise: MeanSe;
  /** Clean minus noise energy at this rank, paired within each trial. */
  readonly difference: PairedDifference;
}

/**
 * The clean labels' and the label noise's energies E(s) on the top-s directions of the initial Jacobian at
 * a sweep of ranks s (fractions of n·K), for the noisiest level: the claim read at every cut instead of one
 * chosen after looking at the spectrum.
 */
export function cutoffSweep(input: ReportInput): { noise: number; rows: CutoffSweepRow[] } | null {
  const rows = finishedRows(input);
  const noisiest = Math.max(...rows.map((r) => r.noise));
  const pairs = rows
    .filter((r) => r.noise === noisiest && noisiest > 0)
    .map((r) => ({ clean: seriesOf(input, r.trial, 'jacobian.cleanLabelEnergy.byRank')[0]?.values, noise: seriesOf(input, r.trial, 'jacobian.noiseEnergy.byRank')[0]?.values }))
    .filter((p): p is { clean: readonly number[]; noise: readonly number[] } => !!p.clean && !!p.noise && p.clean.length === p.noise.length);
  if (!pairs.length) return null;
  const size = pairs[0].clean.length;
  const ranks = [...new Set(SWEEP_FRACTIONS.map((f) => Math.max(1, Math.round(f * size))))];
  return {
    noise: noisiest,
    rows: ranks.map((rank) => ({
      rank,
      chance: rank / size,
      clean: meanSe(pairs.map((p) => p.clean[rank - 1])),
      noise: meanSe(pairs.map((p) => p.noise[rank - 1])),
      difference: pairedDifference(pairs.map((p) => [p.clean[rank - 1], p.noise[rank - 1]] as const)),
    })),
  };
}

function cutoffSweepSummary(input: ReportInput): string[] {
  const sweep = cutoffSweep(input);
  if (!sweep) return [];
  const cells = sweep.rows.map((r) => `s = ${r.rank}: clean ${formatMeanSe(r.clean)}, noise ${formatMeanSe(r.noise)}, chance ${formatValue(r.chance)}, clean − noise ${formatPaired(r.difference, 'clean above')}`);
  return [`cutoff sweep, ${percent(sweep.noise)}, energy E(s) on the top s directions of the initial Jacobian: ${cells.join('; ')}.`];
}

export function jacobianSummary(f: JacobianFinding): string[] {
  const out: string[] = [];
  const clean = f.levels.find((l) => l.noise === 0) ?? f.levels[0];
  if (!clean) return out;
  out.push(
    `information space ${f.rule}: rank ${formatMeanSe(clean.rank)} of n·K = ${Math.round(clean.rank.mean / clean.chance.mean)} (chance energy rank/(n·K) = ${formatValue(clean.chance.mean)}; λ_r/λ_{r+1} there ${formatMeanSe(f.gapRatio)}); clean labels hold ${formatMeanSe(clean.cleanLabelEnergy)} of their energy there (${clean.cleanLabelEnergy.count} seeds, mean ± SE).`,
  );
  for (const l of f.levels.filter((x) => x.noise > 0)) {
    const noise = l.noiseEnergy ? `the label noise with its mean removed (⊥ the clean labels, and ⊥ 1 for one-hot rows) ${formatMeanSe(l.noiseEnergy)} (chance ${formatValue(l.chance.mean)})` : 'no noise vector';
    const raw = l.rawNoiseEnergy ? `, raw y − y_clean ${formatMeanSe(l.rawNoiseEnergy)}` : '';
    out.push(`${percent(l.noise)}: labels trained on ${formatMeanSe(l.labelEnergy)}, ${noise}${raw}.`);
  }
  const first = f.levels.reduce((a, l) => ({ count: a.count + l.informationFirst.count, of: a.of + l.informationFirst.of }), { count: 0, of: 0 });
  if (first.of) out.push(`the residual's information part halves before its nuisance part in ${first.count} of ${first.of} trials.`);
  const noisiest = f.levels[f.levels.length - 1];
  if (noisiest.noise > 0 && noisiest.earlyStop) {
    const g = noisiest.earlyStoppingGain;
    out.push(
      `with ${percent(noisiest.noise)} the mean test error is lowest at step ${noisiest.earlyStop.step} (${formatValue(noisiest.earlyStop.best)}) and ends at ${formatValue(noisiest.earlyStop.final)}; final minus best within each seed ${formatMeanSe(g)}, ${g.above} of ${g.count} seeds higher at the end.`,
    );
  }
  const a = clean.adaptation;
  if (a.count) {
    const resolved = a.count > 1 && a.mean - 3 * a.se > 0 ? 'the Jacobian adapts to the labels' : 'not resolved (3 standard errors) at this many seeds';
    out.push(`after training the initial rank's label energy changes by ${formatMeanSe(a)} (clean labels; ${a.above} of ${a.count} seeds up): ${resolved}.`);
  }
  const dev = f.linearizedDeviation.find((d) => d.noise === 0 && d.value.count);
  if (dev) out.push(`the top 5 singular coordinates of the residual end ${formatValue(dev.value.mean)} of their start away from the linearized (1 − ηλ_s²/n)^τ (clean labels, largest of the 5, mean over seeds): the network leaves its linearization once the information space is fitted.`);
  return out;
}
