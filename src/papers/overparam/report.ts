/**
 * Duzgun, Jelassi & Li (2024), in the paper's form: per width fraction α (log axis), with mean ± SE
 * over seeds, paired within a trial (one seed trains M₁, M₁′ and the narrow nets):
 *   Fig. 1: FSE(S_α → M₁) (blue) and FSE(M₁′ → M₁) (red); FSG(α) = their difference;
 *   Fig. 2: FSE(M₁ → S_α) (blue) and FSE(S_α′ → S_α) (red), and the paper's red FSE(S_α → M_α);
 *   Fig. 3: probe(S_α) (blue) and probe(M₁) (red);
 *   Fig. 4: probe([S_α, R(S_α → M₁)]) against probe(S_α), probe([M₁, R(M₁ → S_α)]) against probe(M₁);
 *   Fig. 5 (toy part): neurons aligned with v₁ and v₃ over training, the wide net against the concatenation.
 */
import { lineChart, type Datum } from '../../report/charts.js';
import { curveData, formatValue, numericRows, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, meanSe, pairedDifference, type MeanSe, type PairedDifference } from '../../report/statistics.js';

const ALPHA = 'comparison.widthFraction';
const BLUE = '#1f77b4';
const RED = '#d62728';

/** One α of the span part: each quantity over the seeds. */
export interface SpanPoint {
  readonly alpha: number;
  readonly seeds: number;
  /** FSG(α) = FSE(S_α → M₁) − FSE(M₁′ → M₁), per seed. */
  readonly wideGap: PairedDifference;
  /** FSE(M₁ → S_α) − FSE(S_α′ → S_α), per seed. */
  readonly narrowGap: PairedDifference;
  /** FSE(M₁ → M_α) − FSE(S_α → M_α), per seed (the paper's Fig. 2 red curve as baseline). */
  readonly singleGap: PairedDifference;
  /** probe(M₁) − probe(S_α). */
  readonly probeGap: PairedDifference;
  /** probe([S_α, R(S_α → M₁)]) − probe(S_α). */
  readonly residualGain: PairedDifference;
  /** probe([M₁, R(M₁ → S_α)]) − probe(M₁). */
  readonly wideResidualGain: PairedDifference;
  /** test error of S_α's output ensemble − test error of M₁ (> 0: the wide net beats the ensemble of its narrow copies). */
  readonly ensembleGap: PairedDifference;
  /**
   * Stitching: the test error of M₁'s own last layer on a linear map of S_α's features minus on a map of M₁′'s
   * (> 0: the narrow features carry less of what M₁'s head reads than another wide net's do).
   */
  readonly stitchGap: PairedDifference;
  /** FSG and the probe gap over the seeds where M₁ and every narrow net fit their training set (train error 0): gaps free of capacity. */
  readonly fitMatched: { readonly wideGap: PairedDifference; readonly probeGap: PairedDifference };
  readonly fse: Readonly<Record<string, MeanSe>>;
  readonly probe: Readonly<Record<string, MeanSe>>;
  readonly errors: Readonly<Record<string, MeanSe>>;
}

const FSE_NAMES = ['narrowToWide', 'wideToWide', 'wideToNarrow', 'narrowToNarrow', 'narrowToSingle', 'wideToSingle'] as const;
const PROBE_NAMES = ['wide', 'narrow', 'narrowWithResidual', 'wideWithResidual'] as const;
const ERROR_NAMES = ['trainError.wide', 'testError.wide', 'trainError.narrow', 'testError.narrow', 'testError.narrowEnsemble'] as const;

function partRows(input: ReportInput, part: string): Datum[] {
  return numericRows(input.rows, [ALPHA, 'compare.fse.narrowToWide']).filter((r) => (r.part ?? 'span') === part);
}

function paired(rows: readonly Datum[], a: string, b: string): PairedDifference {
  return pairedDifference(rows.filter((r) => typeof r[a] === 'number' && typeof r[b] === 'number').map((r) => [r[a] as number, r[b] as number] as const));
}

function statsOf(rows: readonly Datum[], prefix: string, names: readonly string[]): Record<string, MeanSe> {
  return Object.fromEntries(names.map((n) => [n, meanSe(rows.map((r) => r[`${prefix}${n}`]).filter((v): v is number => typeof v === 'number'))]));
}

/** M₁ and every narrow net of S_α fit their training points. */
function bothFit(r: Datum): boolean {
  return r['compare.trainError.wide'] === 0 && r['compare.trainError.narrowWorst'] === 0;
}

/** The span part's numbers per α, widest α first. */
export function spanFindings(input: ReportInput, part = 'span'): SpanPoint[] {
  const rows = partRows(input, part);
  const alphas = [...new Set(rows.map((r) => r[ALPHA] as number))].sort((a, b) => b - a);
  return alphas.map((alpha) => {
    const at = rows.filter((r) => r[ALPHA] === alpha);
    return {
      alpha,
      seeds: at.length,
      wideGap: paired(at, 'compare.fse.narrowToWide', 'compare.fse.wideToWide'),
      narrowGap: paired(at, 'compare.fse.wideToNarrow', 'compare.fse.narrowToNarrow'),
      singleGap: paired(at, 'compare.fse.wideToSingle', 'compare.fse.narrowToSingle'),
      probeGap: paired(at, 'compare.probe.wide', 'compare.probe.narrow'),
      residualGain: paired(at, 'compare.probe.narrowWithResidual', 'compare.probe.narrow'),
      wideResidualGain: paired(at, 'compare.probe.wideWithResidual', 'compare.probe.wide'),
      ensembleGap: paired(at, 'compare.testError.narrowEnsemble', 'compare.testError.wide'),
      stitchGap: paired(at, 'compare.stitch.narrow', 'compare.stitch.wideSecond'),
      fitMatched: {
        wideGap: paired(at.filter(bothFit), 'compare.fse.narrowToWide', 'compare.fse.wideToWide'),
        probeGap: paired(at.filter(bothFit), 'compare.probe.wide', 'compare.probe.narrow'),
      },
      fse: statsOf(at, 'compare.fse.', FSE_NAMES),
      probe: statsOf(at, 'compare.probe.', PROBE_NAMES),
      errors: statsOf(at, 'compare.', ERROR_NAMES),
    };
  });
}

/** "resolved" when |mean| ≥ 3 SE over at least 3 seeds. */
export function resolved(d: MeanSe): boolean {
  return d.count >= 3 && d.se > 0 && Math.abs(d.mean) >= 3 * d.se;
}

function describe(d: PairedDifference): string {
  const t = d.se > 0 ? d.mean / d.se : NaN;
  const verdict = { reproduced: 'above 0 at ≥ 3 SE', opposite: 'below 0 at ≥ 3 SE, opposite to the paper', 'not resolved': 'not resolved', 'too few seeds': 'too few seeds' }[claimVerdict(d)];
  return `${formatMeanSe(d)} (t = ${Number.isFinite(t) ? t.toFixed(1) : 'n/a'}, ${d.above} of ${d.count} seeds above 0, ${verdict})`;
}

/** The paper's claim that d > 0, judged at 3 SE. */
export function claimVerdict(d: MeanSe): 'reproduced' | 'opposite' | 'not resolved' | 'too few seeds' {
  if (d.count < 3) return 'too few seeds';
  if (!resolved(d)) return 'not resolved';
  return d.mean > 0 ? 'reproduced' : 'opposite';
}

function verdictText(what: string, d: MeanSe): string {
  const v = claimVerdict(d);
  if (v === 'reproduced') return `${what}: reproduced (${formatMeanSe(d)}, ≥ 3 SE above 0).`;
  if (v === 'opposite') return `${what}: NOT reproduced, the opposite holds at ≥ 3 SE (${formatMeanSe(d)}).`;
  return `${what}: not reproduced here (${formatMeanSe(d)}, ${v}).`;
}

function longFormat(rows: readonly Datum[], fields: Readonly<Record<string, string>>): Datum[] {
  return rows.flatMap((r) =>
    Object.entries(fields)
      .filter(([f]) => typeof r[f] === 'number')
      .map(([f, label]) => ({ [ALPHA]: r[ALPHA], value: r[f], what: label, trial: r.trial_id, seed: r.seed })),
  );
}

/** Neurons aligned with v₁ and v₃ (Fig. 5) at the end of the toy part, per α: wide and concatenation. */
export interface ToyPoint {
  readonly alpha: number;
  /** Fractions of each side's neurons: m for the wide net, U·round(α·m) (= m at U = 1/α) for the concatenation. */
  readonly wideV3: MeanSe;
  readonly narrowV3: MeanSe;
  readonly wideV1: MeanSe;
  readonly narrowV1: MeanSe;
  /** The same fractions at initialization (step 0): the chance level for random neurons. */
  readonly wideV3Initial: MeanSe;
  readonly narrowV3Initial: MeanSe;
  /** probe(M₁) − probe(S_α). */
  readonly probeGap: PairedDifference;
}

export function toyFindings(input: ReportInput): ToyPoint[] {
  const rows = numericRows(input.rows, [ALPHA, 'compare.copies', 'compare.narrowWidth', 'compare.wideWidth']).filter((r) => r.part === 'toy');
  const alphas = [...new Set(rows.map((r) => r[ALPHA] as number))].sort((a, b) => b - a);
  const fraction = (r: Datum, field: string, neurons: number) => (typeof r[field] === 'number' ? (r[field] as number) / neurons : NaN);
  const initial = curveData(input, ['neurons.aligned.2', 'narrow.neurons.aligned.2']).filter((d) => d.part === 'toy' && d.step === 0);
  return alphas.map((alpha) => {
    const at = rows.filter((r) => r[ALPHA] === alpha);
    const width = at.length ? (at[0]['compare.wideWidth'] as number) : NaN;
    const initialAt = initial.filter((d) => d[ALPHA] === alpha);
    const wideCount = (r: Datum) => r['compare.wideWidth'] as number;
    const narrowCount = (r: Datum) => (r['compare.copies'] as number) * (r['compare.narrowWidth'] as number);
    return {
      alpha,
      wideV3: meanSe(at.map((r) => fraction(r, 'neurons.aligned.2', wideCount(r)))),
      narrowV3: meanSe(at.map((r) => fraction(r, 'narrow.neurons.aligned.2', narrowCount(r)))),
      wideV1: meanSe(at.map((r) => fraction(r, 'neurons.aligned.0', wideCount(r)))),
      narrowV1: meanSe(at.map((r) => fraction(r, 'narrow.neurons.aligned.0', narrowCount(r)))),
      wideV3Initial: meanSe(initialAt.map((d) => fraction(d, 'neurons.aligned.2', width))),
      narrowV3Initial: meanSe(initialAt.map((d) => fraction(d, 'narrow.neurons.aligned.2', at.length ? narrowCount(at[0]) : NaN))),
      probeGap: paired(at, 'compare.probe.wide', 'compare.probe.narrow'),
    };
  });
}

export function overparamReport(input: ReportInput): ReportContent {
  const span = partRows(input, 'span');
  const x = { field: ALPHA, title: 'width fraction α of the narrow nets (log)', log: true };
  const pair = (blue: string, red: string) => ({ field: 'what', title: '', palette: { [blue]: BLUE, [red]: RED } });
  const chart = (title: string, fields: Record<string, string>, yTitle: string, blue: string, red: string) =>
    lineChart({ title, data: longFormat(span, fields), x, y: { field: 'value', title: yTitle }, color: pair(blue, red), band: true });
  const figures = [
    {
      id: 'fig1_span_of_wide',
      caption:
        'Fig. 1: can concatenated narrow nets span the wide net? FSE(S_α → M₁) in blue, a second wide net FSE(M₁′ → M₁) in red (the baseline); FSG(α) is the gap. FSE(A → B) = Σ_test ‖(A − ā)Θ̂ + b̄ − B‖² / Σ_test ‖B − b̄‖², ridge map Θ̂ fitted on the training points with λ validated on a held-out fifth of them (centering and the relative penalty are ours). Mean ± SE over seeds.',
      spec: chart('Fig. 1: FSE onto the wide net', { 'compare.fse.narrowToWide': 'S_α → M₁', 'compare.fse.wideToWide': 'M₁′ → M₁' }, 'feature span error', 'S_α → M₁', 'M₁′ → M₁'),
    },
    {
      id: 'fig2_span_of_narrow',
      caption:
        'Fig. 2: the reverse: FSE(M₁ → S_α) in blue against another concatenation FSE(S_α′ → S_α) in red; dashed neighbours: the paper’s red curve FSE(S_α → M_α) (M_α a narrow net outside S_α) and FSE(M₁ → M_α).',
      spec: lineChart({
        title: 'Fig. 2: FSE onto the narrow nets',
        data: longFormat(span, { 'compare.fse.wideToNarrow': 'M₁ → S_α', 'compare.fse.narrowToNarrow': 'S_α′ → S_α', 'compare.fse.wideToSingle': 'M₁ → M_α', 'compare.fse.narrowToSingle': 'S_α → M_α' }),
        x,
        y: { field: 'value', title: 'feature span error' },
        color: { field: 'what', title: '', palette: { 'M₁ → S_α': BLUE, 'S_α′ → S_α': RED, 'M₁ → M_α': '#9ecae1', 'S_α → M_α': '#fc9272' } },
        band: true,
      }),
    },
    {
      id: 'fig3_probe',
      caption: 'Fig. 3: feature performance, the test accuracy of a linear probe on frozen features (logistic, penalty validated; trained on half of the training points): concatenated narrow nets in blue, the wide net in red.',
      spec: chart('Fig. 3: linear probe accuracy', { 'compare.probe.narrow': 'S_α', 'compare.probe.wide': 'M₁' }, 'probe test accuracy', 'S_α', 'M₁'),
    },
    {
      id: 'fig4_residuals',
      caption:
        'Fig. 4: feature residuals. Blue: probes with residuals appended, [S_α, R(S_α → M₁)] and [M₁, R(M₁ → S_α)], R(A → B) = B − Θ̂ᵀA with Θ̂ fitted on the other half of the training points (so the probe sees out-of-sample residuals); red: S_α and M₁ alone.',
      spec: lineChart({
        title: 'Fig. 4: residual features',
        data: longFormat(span, { 'compare.probe.narrowWithResidual': '[S_α, R(S_α → M₁)]', 'compare.probe.narrow': 'S_α', 'compare.probe.wideWithResidual': '[M₁, R(M₁ → S_α)]', 'compare.probe.wide': 'M₁' }),
        x,
        y: { field: 'value', title: 'probe test accuracy' },
        color: { field: 'what', title: '', palette: { '[S_α, R(S_α → M₁)]': BLUE, 'S_α': RED, '[M₁, R(M₁ → S_α)]': '#9ecae1', 'M₁': '#fc9272' } },
        band: true,
      }),
    },
    {
      id: 'gaps',
      caption: 'The gaps themselves, per seed then averaged (mean ± SE): FSG(α) of Fig. 1, the reverse gap of Fig. 2, and probe(M₁) − probe(S_α).',
      spec: lineChart({
        title: 'Feature span gaps and the probe gap',
        data: longFormat(
          span.map((r) => ({ ...r, probeGap: (r['compare.probe.wide'] as number) - (r['compare.probe.narrow'] as number) })),
          { 'compare.gap.wide': 'FSG: S_α → M₁ minus M₁′ → M₁', 'compare.gap.narrow': 'M₁ → S_α minus S_α′ → S_α', probeGap: 'probe(M₁) − probe(S_α)' },
        ),
        x,
        y: { field: 'value', title: 'gap' },
        color: { field: 'what', title: '' },
        band: true,
      }),
    },
    {
      id: 'errors',
      caption: 'Train and test error of the wide net and of the narrow nets (mean over the U copies of S_α): where the narrow nets stop fitting the training set, part of any gap is capacity.',
      spec: lineChart({
        title: 'Errors of the nets',
        data: longFormat(span, { 'compare.trainError.wide': 'wide, train', 'compare.testError.wide': 'wide, test', 'compare.trainError.narrow': 'narrow, train', 'compare.testError.narrow': 'narrow, test' }),
        x,
        y: { field: 'value', title: 'classification error' },
        color: { field: 'what', title: '' },
        band: true,
      }),
    },
  ];

  const toyRows = numericRows(input.rows, [ALPHA]).filter((r) => r.part === 'toy');
  if (toyRows.length) {
    const counts = curveData(input, ['neurons.aligned.0', 'neurons.aligned.2', 'narrow.neurons.aligned.0', 'narrow.neurons.aligned.2']).filter((d) => d.part === 'toy' && (d.step as number) > 0);
    // A seed trains the same M₁ at every α: its curves are drawn once, from the largest α.
    const oneAlpha = Math.max(...toyRows.map((r) => r[ALPHA] as number));
    const long = counts.flatMap((d) =>
      [
        ['neurons.aligned.0', 'wide M₁, v₁', true],
        ['neurons.aligned.2', 'wide M₁, v₃', true],
        ['narrow.neurons.aligned.0', `S_α, v₁, α = ${formatValue(d[ALPHA] as number)}`, false],
        ['narrow.neurons.aligned.2', `S_α, v₃, α = ${formatValue(d[ALPHA] as number)}`, false],
      ]
        .filter(([f, , wide]) => typeof d[f as string] === 'number' && (!wide || d[ALPHA] === oneAlpha))
        .map(([f, label]) => ({ step: d.step, count: d[f as string], what: label as string, seed: d.seed })),
    );
    figures.push({
      id: 'fig5_toy_neurons',
      caption: 'Fig. 5: the addition/multiplication task: neurons aligned with the addition signal v₁ and the multiplication signal v₃ over training, in the wide net and summed over the concatenated narrow nets (mean over seeds).',
      spec: lineChart({ title: 'Fig. 5: neurons aligned with the signals', data: long, x: { field: 'step', title: 'step (log)', log: true }, y: { field: 'count', title: 'aligned neurons' }, color: { field: 'what', title: '' }, band: true }),
    });
    figures.push({
      id: 'toy_probe',
      caption: 'Toy task: probe accuracy of the concatenation (blue) against the wide net (red).',
      spec: lineChart({
        title: 'Toy task: linear probe accuracy',
        data: longFormat(toyRows, { 'compare.probe.narrow': 'S_α', 'compare.probe.wide': 'M₁' }),
        x,
        y: { field: 'value', title: 'probe test accuracy' },
        color: pair('S_α', 'M₁'),
        band: true,
      }),
    });
  }

  const summary: string[] = [];
  const points = spanFindings(input);
  if (points.length) {
    const widest = points[0];
    const narrowest = points[points.length - 1];
    summary.push(
      `FSG(α) = FSE(S_α → M₁) − FSE(M₁′ → M₁), per seed: ${points.map((p) => `α = ${formatValue(p.alpha)}: ${describe(p.wideGap)}`).join('; ')}.`,
      `Reverse gap FSE(M₁ → S_α) − FSE(S_α′ → S_α): ${points.map((p) => `α = ${formatValue(p.alpha)}: ${describe(p.narrowGap)}`).join('; ')}. With the paper's red curve as baseline, FSE(M₁ → M_α) − FSE(S_α → M_α): ${points.map((p) => `${formatValue(p.alpha)}: ${formatMeanSe(p.singleGap)}`).join('; ')}.`,
      `Probe gap probe(M₁) − probe(S_α): ${points.map((p) => `α = ${formatValue(p.alpha)}: ${describe(p.probeGap)}`).join('; ')}.`,
      `Residual gain probe([S_α, R(S_α → M₁)]) − probe(S_α): ${points.map((p) => `${formatValue(p.alpha)}: ${formatMeanSe(p.residualGain)}`).join('; ')}; appended to M₁, probe([M₁, R(M₁ → S_α)]) − probe(M₁): ${points.map((p) => `${formatValue(p.alpha)}: ${formatMeanSe(p.wideResidualGain)}`).join('; ')}.`,
      verdictText(`Fig. 1, FSG(${formatValue(narrowest.alpha)}) > 0`, narrowest.wideGap),
      verdictText(`Fig. 2, the reverse gap at α = ${formatValue(narrowest.alpha)} > 0`, narrowest.narrowGap),
      verdictText(`Fig. 3, probe(M₁) > probe(S_α) at α = ${formatValue(narrowest.alpha)}`, narrowest.probeGap),
      verdictText(`Fig. 4, residuals help S_α at α = ${formatValue(narrowest.alpha)}`, narrowest.residualGain),
      `Fig. 4c–d, residuals R(M₁ → S_α) do not help M₁ at α = ${formatValue(narrowest.alpha)}: ${claimVerdict(narrowest.wideResidualGain) === 'reproduced' ? 'NOT reproduced, they help' : 'reproduced'} (${formatMeanSe(narrowest.wideResidualGain)}).`,
      `Output ensemble of S_α's narrow nets against M₁ (Vyas et al. 2023: ensembles of narrow nets do worse than one wide net), test error ensemble − wide: ${points.map((p) => `α = ${formatValue(p.alpha)}: ${describe(p.ensembleGap)} (ensemble ${formatMeanSe(p.errors['testError.narrowEnsemble'])}, one narrow net ${formatMeanSe(p.errors['testError.narrow'])}, wide ${formatMeanSe(p.errors['testError.wide'])})`).join('; ')}.`,
      ...(points.some((p) => p.stitchGap.count > 0)
        ? [`Stitching: M₁'s last layer on a linear map of S_α's features minus on a map of M₁′'s, test error: ${points.map((p) => `α = ${formatValue(p.alpha)}: ${describe(p.stitchGap)}`).join('; ')}.`]
        : []),
      `Fit-matched (only seeds where M₁ and every narrow net fit all training points): ${points.map((p) => `α = ${formatValue(p.alpha)}: FSG ${p.fitMatched.wideGap.count ? describe(p.fitMatched.wideGap) : 'no seed'}, probe gap ${p.fitMatched.probeGap.count ? formatMeanSe(p.fitMatched.probeGap) : 'no seed'} (${p.fitMatched.wideGap.count} of ${p.seeds} seeds)`).join('; ')}.`,
      `Narrow nets' train error ${formatMeanSe(widest.errors['trainError.narrow'])} at α = ${formatValue(widest.alpha)} and ${formatMeanSe(narrowest.errors['trainError.narrow'])} at α = ${formatValue(narrowest.alpha)} (wide ${formatMeanSe(narrowest.errors['trainError.wide'])}).`,
    );
  }
  // Other architectures' span parts (the deep profile's span-vgg): the same gaps, one line each.
  for (const part of [...new Set(input.rows.map((r) => r.part))].filter((p): p is string => typeof p === 'string' && p.startsWith('span-'))) {
    const other = spanFindings(input, part);
    if (other.length === 0) continue;
    summary.push(
      `${part}: FSG ${other.map((p) => `α = ${formatValue(p.alpha)}: ${describe(p.wideGap)}`).join('; ')}; probe gap ${other.map((p) => `${formatValue(p.alpha)}: ${formatMeanSe(p.probeGap)}`).join('; ')}; fit-matched FSG ${other.map((p) => `${formatValue(p.alpha)}: ${p.fitMatched.wideGap.count ? `${formatMeanSe(p.fitMatched.wideGap)} (${p.fitMatched.wideGap.count} seeds)` : 'no seed'}`).join('; ')}; narrow nets' train error ${other.map((p) => `${formatValue(p.alpha)}: ${formatMeanSe(p.errors['trainError.narrow'])}`).join(', ')} (wide ${formatMeanSe(other[0].errors['trainError.wide'])}).`,
    );
  }
  for (const t of toyFindings(input))
    summary.push(
      `Toy, α = ${formatValue(t.alpha)}: fraction of neurons aligned with v₃, concatenation ${formatMeanSe(t.narrowV3)} vs wide ${formatMeanSe(t.wideV3)} (at init ${formatMeanSe(t.narrowV3Initial)} and ${formatMeanSe(t.wideV3Initial)}: random directions; v₁: ${formatMeanSe(t.narrowV1)} vs ${formatMeanSe(t.wideV1)}); probe(M₁) − probe(S_α) ${describe(t.probeGap)}.`,
    );
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
