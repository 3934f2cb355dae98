/**
 * Xu & Ziyin (2025): the simulated output f(t), alignment ζ(t) and layer norms of a two-layer linear
 * net on 1D data drawn over the exact solution; the phase diagram of K_∞/K₀ (measured and predicted)
 * over the init scale and the learning-rate ratio; ζ(t) for nonlinear activations.
 */
import { regimeOf, solveFromEffectivePoint } from '../../theory/linearNetwork1d.js';
import { asMlp } from '../../models/mlp/spec.js';
import { linearNetworkRates } from '../../theory/linearNetworkRates.js';
import type { TopLevelSpec } from 'vega-lite';
import { lineChart, type Datum } from '../../report/charts.js';
import { curveData, formatValue, groupBy, meanBy, specOf, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import type { StoredTrial } from '../../run/store.js';
import { formatMeanSe, formatPaired, pairedBySeed, type PairedDifference } from '../../report/statistics.js';
import { INIT_SCALE_PART, initScaleReport, TWO_LAYER_PART, twoLayerReport } from './initScale.js';

const POINT = ['point.output', 'point.target', 'point.inputNorm', 'point.hiddenNorm', 'point.outputNorm', 'alignmentAngle'];

/** The closed form's rates for a stored trial: the parametrization's multipliers, α and the layer rates folded in. */
function rates(t: StoredTrial): { etaW: number; etaU: number } {
  const c = specOf(t);
  return linearNetworkRates({ parametrization: c.model.parametrization, widths: [c.data.inputDim, asMlp(c.model, 'mechanisms').hiddenWidths[0], 1], outputScale: c.model.outputScale, layerLearningRates: c.training.layerLearningRates });
}

/** The closed form from a trial's first recorded state. */
function solutionFor(first: Datum, t: StoredTrial) {
  return solveFromEffectivePoint(
    {
      outputNorm: first['point.outputNorm'] as number,
      hiddenNorm: first['point.hiddenNorm'] as number,
      alignment: first.alignmentAngle as number,
      inputNorm: first['point.inputNorm'] as number,
      target: first['point.target'] as number,
    },
    rates(t),
  );
}

const ntkOf = (d: Datum, t: StoredTrial) => {
  const { etaU, etaW } = rates(t);
  return etaU * (d['point.hiddenNorm'] as number) ** 2 + etaW * (d['point.inputNorm'] as number) ** 2 * (d['point.outputNorm'] as number) ** 2;
};

/** What one trajectory did, measured from its recorded effective point. */
export interface MeasuredMechanism {
  /** By the issue's definitions: rescaling keeps ζ within 1e-3 while ‖αu‖/‖h‖ changes > 2×; disalignment drops |ζ| by > 0.3 with both norms within 10 %; alignment raises |ζ| by > 0.3. */
  readonly mechanism: 'alignment' | 'disalignment' | 'rescaling' | 'mixed';
  /** |ζ_end| − |ζ₀|. */
  readonly alignmentChange: number;
  /** max over t of |ζ(t) − ζ₀|. */
  readonly alignmentDrift: number;
  /** (‖αu‖/‖h‖)_end / (‖αu‖/‖h‖)₀. */
  readonly normRatioChange: number;
  /** ‖αu‖_end/‖αu‖₀ and ‖h‖_end/‖h‖₀. */
  readonly outputNormChange: number;
  readonly hiddenNormChange: number;
}

/** One trajectory of the trajectories part: its name, width and measured mechanism. */
export type MechanismCase = MeasuredMechanism & { readonly case: string; readonly width: number };

export function measureMechanism(curve: readonly Datum[]): MeasuredMechanism {
  const first = curve[0];
  const last = curve[curve.length - 1];
  const zeta = (d: Datum) => d.alignmentAngle as number;
  const u = (d: Datum) => d['point.outputNorm'] as number;
  const hidden = (d: Datum) => d['point.hiddenNorm'] as number;
  const alignmentChange = Math.abs(zeta(last)) - Math.abs(zeta(first));
  const alignmentDrift = Math.max(...curve.map((d) => Math.abs(zeta(d) - zeta(first))));
  const normRatioChange = u(last) / hidden(last) / (u(first) / hidden(first));
  const outputNormChange = u(last) / u(first);
  const hiddenNormChange = hidden(last) / hidden(first);
  const within = (r: number, tolerance: number) => Math.abs(r - 1) <= tolerance;
  const mechanism =
    alignmentDrift < 1e-3 && (normRatioChange > 2 || normRatioChange < 0.5)
      ? 'rescaling'
      : alignmentChange < -0.3 && within(outputNormChange, 0.1) && within(hiddenNormChange, 0.1)
        ? 'disalignment'
        : alignmentChange > 0.3
          ? 'alignment'
          : 'mixed';
  return { mechanism, alignmentChange, alignmentDrift, normRatioChange, outputNormChange, hiddenNormChange };
}

export interface MechanismsFinding {
  /** The trajectories part, each case's mechanism as measured. */
  readonly mechanisms: readonly MechanismCase[];
  readonly maxOutputError: number;
  /** max |Δf| between each drawn closed form and its simulation, by case. */
  readonly outputErrorByCase: Record<string, number>;
  readonly maxAlignmentError: number;
  readonly phaseAgreement: { agree: number; total: number };
  readonly finalAlignment: Record<string, number>;
}

export function mechanismsAnalysis(input: ReportInput) {
  const byTrial = new Map(input.trials.map((t) => [t.id, t]));
  const curves = curveData(input, POINT).filter((d) => POINT.every((f) => typeof d[f] === 'number'));
  const grouped = groupBy(curves, (d) => d.trial as string);
  for (const list of grouped.values()) list.sort((a, b) => (a.step as number) - (b.step as number));

  const trajectories: Datum[] = [];
  const theory: Datum[] = [];
  let maxOutputError = 0;
  let maxAlignmentError = 0;
  const phase: Datum[] = [];
  const ntkWidth: Datum[] = [];
  const finalAlignment: Record<string, number> = {};
  const outputErrorByCase: Record<string, number> = {};
  const mechanisms: MechanismCase[] = [];
  const boundaryInputs: { part: string; second: number; first: Datum; rates: { etaU: number; etaW: number }; initScale: number }[] = [];
  let agree = 0;
  let total = 0;
  for (const [id, list] of grouped) {
    const t = byTrial.get(id) as StoredTrial;
    const part = t.point.part;
    const activation = specOf(t).model.activation;
    if (part === 'trajectories' || part === 'parametrizations') {
      const c = specOf(t);
      const width = asMlp(c.model, 'mechanisms').hiddenWidths[0];
      const measured = part === 'trajectories' ? measureMechanism(list) : null;
      const label = measured ? `${measured.mechanism} (ζ₀ = ${(Math.round((list[0].alignmentAngle as number) * 100) / 100 + 0).toFixed(2)})` : `${c.model.parametrization}, α = ${c.model.outputScale}`;
      const caseName = `${label}, seed ${String(t.point.seed ?? 0)}`;
      if (measured) mechanisms.push({ case: caseName, width, ...measured });
      let caseError = 0;
      const solution = solutionFor(list[0], t);
      for (const d of list) {
        const p = solution.at(d.time as number);
        maxOutputError = Math.max(maxOutputError, Math.abs(p.output - (d['point.output'] as number)));
        caseError = Math.max(caseError, Math.abs(p.output - (d['point.output'] as number)));
        maxAlignmentError = Math.max(maxAlignmentError, Math.abs(p.alignment - (d.alignmentAngle as number)));
        trajectories.push({ case: caseName, time: d.time, output: d['point.output'], alignment: d.alignmentAngle, uNorm: d['point.outputNorm'], hNorm: d['point.hiddenNorm'] });
      }
      outputErrorByCase[caseName] = caseError;
      const end = list[list.length - 1].time as number;
      for (let i = 0; i <= 200; i++) {
        const time = end * (i / 200) ** 2;
        const p = solution.at(time);
        theory.push({ case: caseName, time, output: p.output, alignment: p.alignment, uNorm: p.uNorm, hNorm: p.hNorm });
      }
    } else if (typeof part === 'string' && PHASE_PARTS.has(part)) {
      const first = list[0];
      const last = list[list.length - 1];
      const measured = ntkOf(last, t) / ntkOf(first, t);
      const predicted = solutionFor(first, t).ntkRatio;
      const { etaU, etaW } = rates(t);
      const c = specOf(t);
      // The phase diagrams sweep one init scale for both layers.
      const initScale = typeof c.model.initScale === 'number' ? c.model.initScale : c.model.initScale[0];
      const ratio = (c.training.layerLearningRates?.[1] ?? 1) / (c.training.layerLearningRates?.[0] ?? 1);
      const coordinates = { ratio, width: asMlp(c.model, 'mechanisms').hiddenWidths[0], outputScale: c.model.outputScale };
      // A cell belongs to every slice whose other two axes sit at their base values (a trial shared by two parts is stored once).
      for (const slice of Object.keys(PHASE_AXES) as (keyof typeof PHASE_AXES)[]) {
        const field = PHASE_AXES[slice].field;
        const others = (Object.keys(PHASE_BASE) as (keyof typeof PHASE_BASE)[]).filter((k) => k !== field);
        if (!others.every((k) => coordinates[k] === PHASE_BASE[k])) continue;
        phase.push({ part: slice, initScale, [field]: coordinates[field], measured: Math.log10(measured), predicted: Math.log10(predicted) });
        boundaryInputs.push({ part: slice, second: coordinates[field], first, rates: { etaU, etaW }, initScale });
      }
      total++;
      if (regimeOf(measured) === regimeOf(predicted)) agree++;
    } else if (part === NTK_WIDTH_PART) {
      const c = specOf(t);
      ntkWidth.push({
        width: asMlp(c.model, 'mechanisms').hiddenWidths[0],
        seed: Number(t.point.seed ?? 0),
        measured: Math.log10(ntkOf(list[list.length - 1], t) / ntkOf(list[0], t)),
        predicted: Math.log10(solutionFor(list[0], t).ntkRatio),
      });
    } else if (part === 'activations') {
      for (const d of list) trajectories.push({ case: `${activation}`, time: d.time, alignment: d.alignmentAngle, activations: 1 });
      finalAlignment[activation] = list[list.length - 1].alignmentAngle as number;
    }
  }
  return { trajectories, theory, phase, ntkWidth, boundary: phaseBoundary(boundaryInputs), finding: { maxOutputError, outputErrorByCase, maxAlignmentError, phaseAgreement: { agree, total }, finalAlignment, mechanisms } satisfies MechanismsFinding };
}

/** The part that widens the net in the NTK parametrization at a fixed init (the kernel limit in width). */
export const NTK_WIDTH_PART = 'ntk-width';

/**
 * The kernel limit in width: in the NTK parametrization K∞/K₀ → 1 as m → ∞ at a fixed init. Per width, log10 K∞/K₀
 * (mean over seeds, simulated and exact), and the smallest width's minus the largest's, paired by seed.
 */
export function ntkWidthFinding(cells: readonly Datum[]): { rows: { width: number; measured: number; predicted: number }[]; fall: PairedDifference | null; from: number; to: number } {
  const widths = [...new Set(cells.map((d) => d.width as number))].sort((a, b) => a - b);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const rows = widths.map((width) => {
    const own = cells.filter((d) => d.width === width);
    return { width, measured: mean(own.map((d) => d.measured as number)), predicted: mean(own.map((d) => d.predicted as number)) };
  });
  const [from, to] = [widths[0], widths[widths.length - 1]];
  const at = (width: number) => new Map(cells.filter((d) => d.width === width).map((d) => [d.seed as number, Math.abs(d.measured as number)]));
  return { rows, fall: widths.length >= 2 ? pairedBySeed(at(from), at(to)) : null, from, to };
}

/**
 * The kernel limit along the learning-rate ratio: at each init scale below 1 that the ratio slice sweeps
 * over more than one decade each way, log10 K∞/K₀ (simulated, exact) from the most extreme ratio below 1
 * through 1 to the most extreme above (the theory: → 0, a kernel, as η_u/η_w → 0 or ∞).
 */
function ratioLimitLines(phase: readonly Datum[]): string[] {
  const cells = phase.filter((d) => d.part === 'phase');
  const scales = [...new Set(cells.map((d) => d.initScale as number))].filter((s) => s < 1).sort((a, b) => a - b);
  const out: string[] = [];
  for (const scale of scales) {
    const own = cells.filter((d) => d.initScale === scale).sort((a, b) => (a.ratio as number) - (b.ratio as number));
    if (own.length < 3 || (own[0].ratio as number) > 0.1 || (own[own.length - 1].ratio as number) < 10) continue;
    const cell = (d: Datum) => `${formatValue(d.ratio as number)}: ${formatValue(d.measured as number)} (exact ${formatValue(d.predicted as number)})`;
    out.push(`toward the kernel limit in the learning-rate ratio, init ${scale}: log10 K∞/K₀ at η_u/η_w = ${own.map(cell).join(', ')}.`);
  }
  return out;
}

/** The phase diagrams' second axes, by part: the learning-rate ratio, the width, the output scale. */
const PHASE_AXES = {
  phase: { field: 'ratio', title: 'η_u / η_w (log)' },
  'phase-width': { field: 'width', title: 'hidden width m (log)' },
  'phase-output': { field: 'outputScale', title: 'output scale α (log)' },
} as const;

/** Parts whose trials are phase-diagram cells; each cell lands in the slices its coordinates fit (phase-extreme's in the ratio slice). */
const PHASE_PARTS: ReadonlySet<string> = new Set([...Object.keys(PHASE_AXES), 'phase-extreme']);

/** The point every slice of the phase diagram passes through: equal rates, the spec's width, α = 1. */
const PHASE_BASE = { ratio: 1, width: 50, outputScale: 1 } as const;

const BOUNDARY_SCALES = Array.from({ length: 161 }, (_, i) => 10 ** (-3 + i / 40));

/**
 * The analytic phase boundary: for each value of the second axis, the smallest init scale λ* whose
 * closed-form K∞/K₀ is within 10% of 1 (kernel). The init's norms scale linearly with λ for a
 * Gaussian init, so one trial's initial point, divided by its λ, gives the whole λ line.
 */
function phaseBoundary(inputs: readonly { part: string; second: number; first: Datum; rates: { etaU: number; etaW: number }; initScale: number }[]): Datum[] {
  const seen = new Set<string>();
  const out: Datum[] = [];
  for (const b of inputs) {
    const key = `${b.part}@${b.second}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = (lambda: number) =>
      solveFromEffectivePoint(
        {
          outputNorm: ((b.first['point.outputNorm'] as number) / b.initScale) * lambda,
          hiddenNorm: ((b.first['point.hiddenNorm'] as number) / b.initScale) * lambda,
          alignment: b.first.alignmentAngle as number,
          inputNorm: b.first['point.inputNorm'] as number,
          target: b.first['point.target'] as number,
        },
        b.rates,
      ).ntkRatio;
    const lambda = BOUNDARY_SCALES.find((l) => regimeOf(at(l)) === 'kernel');
    if (lambda !== undefined) out.push({ part: b.part, initScale: lambda, [PHASE_AXES[b.part as keyof typeof PHASE_AXES].field]: b.second });
  }
  return out;
}

/** Measured log10 K∞/K₀ as squares on log–log axes, the analytic boundary λ* drawn over them. */
function phaseChart(title: string, cells: readonly Datum[], boundary: readonly Datum[], axis: { field: string; title: string }, value: 'measured' | 'predicted'): TopLevelSpec {
  const x = { field: 'initScale', type: 'quantitative', title: 'init scale λ (log)', scale: { type: 'log' } };
  const y = { field: axis.field, type: 'quantitative', title: axis.title, scale: { type: 'log' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 320,
    height: 260,
    datasets: { cells: cells as Datum[], boundary: boundary as Datum[] },
    data: { name: 'cells' },
    layer: [
      {
        mark: { type: 'square', size: 380, opacity: 0.95 },
        encoding: {
          x,
          y,
          color: { field: value, type: 'quantitative', title: 'log10 K∞/K₀', scale: { scheme: 'viridis', domainMin: 0 } },
          tooltip: [{ field: 'initScale', title: 'λ' }, { field: axis.field, title: axis.title }, { field: value, format: '.3f', title: 'log10 K∞/K₀' }],
        },
      },
      { data: { name: 'boundary' }, mark: { type: 'line', color: 'black', strokeDash: [6, 4], point: { color: 'black', size: 20 } }, encoding: { x, y, order: { field: axis.field } } },
    ],
    description: 'dashed: the analytic boundary λ*, the smallest init scale whose exact K∞/K₀ is within 10% of 1',
  } as unknown as TopLevelSpec;
}

/** Per-init-scale results of the deep-net profile (Fig. 2b), over seeds. */
export interface DeepNetAlignment {
  readonly data: Datum[];
  /** Mean over layers and seeds of final − initial alignment, per init scale. */
  readonly gain: { x: number; mean: number }[];
  /** Mean layer alignment at init (the random net's value, the baseline) per init scale. */
  readonly initial: { x: number; mean: number }[];
  /** gain(smallest init) − gain(largest init), paired by seed. */
  readonly gainDrop: PairedDifference & { readonly from: number; readonly to: number };
}

/**
 * Fig. 2 of the paper: the alignment between consecutive layers of a deep net against the init scale,
 * at initialization (dashed) and after training (solid): the gain, final − initial, is what training did.
 * Alignment of layer l: ‖W_l h_{l−1}‖ / (‖W_l‖₂ ‖h_{l−1}‖), averaged over inputs; a layer's gain is its
 * final minus its initial value, a trial's gain the mean over its layers.
 */
export function deepNetAlignment(input: ReportInput): DeepNetAlignment {
  const isLayer = (k: string) => /^layer\d+\.alignment$/.test(k);
  const label = (k: string) => `layers ${Number(k.slice(5, k.indexOf('.'))) - 1}–${k.slice(5, k.indexOf('.'))}`;
  const mnist = input.trials.filter((t) => t.point.part === 'mnist');
  const fields = [...new Set(mnist.flatMap((t) => Object.keys(t.final?.metrics ?? {}).filter(isLayer)))];
  const curves = curveData(input, fields).filter((d) => d.part === 'mnist');
  const data: Datum[] = [];
  const trialGains: Datum[] = [];
  const initial: Datum[] = [];
  for (const t of mnist) {
    const own = curves.filter((d) => d.trial === t.id).sort((a, b) => (a.step as number) - (b.step as number));
    if (own.length === 0) continue;
    const initScale = t.point['model.initScale'] as number;
    const [first, last] = [own[0], own[own.length - 1]];
    const layerGains: number[] = [];
    for (const f of fields) {
      if (typeof first[f] !== 'number' || typeof last[f] !== 'number') continue;
      data.push({ 'model.initScale': initScale, alignment: first[f], series: `${label(f)}, at init` });
      data.push({ 'model.initScale': initScale, alignment: last[f], series: `${label(f)}, trained` });
      layerGains.push((last[f] as number) - (first[f] as number));
      initial.push({ 'model.initScale': initScale, alignment: first[f] });
    }
    if (layerGains.length > 0) trialGains.push({ 'model.initScale': initScale, seed: Number(t.point.seed ?? 0), gain: layerGains.reduce((a, b) => a + b, 0) / layerGains.length });
  }
  const scales = [...new Set(trialGains.map((g) => g['model.initScale'] as number))].sort((a, b) => a - b);
  const [from, to] = [scales[0], scales[scales.length - 1]];
  const gainAt = (scale: number) => new Map(trialGains.filter((g) => g['model.initScale'] === scale).map((g) => [g.seed as number, g.gain as number]));
  return {
    data,
    gain: meanBy(trialGains, 'model.initScale', 'gain'),
    initial: meanBy(initial, 'model.initScale', 'alignment'),
    gainDrop: { ...pairedBySeed(gainAt(from), gainAt(to)), from, to },
  };
}

export function mechanismsReport(input: ReportInput): ReportContent {
  if (input.rows.some((r) => r.part === INIT_SCALE_PART)) return initScaleReport(input);
  if (input.rows.some((r) => r.part === TWO_LAYER_PART)) return twoLayerReport(input);
  if (input.rows.some((r) => r.part === 'mnist') && !input.rows.some((r) => r.part === 'trajectories')) {
    const { data, gain, initial, gainDrop } = deepNetAlignment(input);
    const trained = meanBy(data.filter((d) => String(d.series).endsWith('trained')), 'model.initScale', 'alignment');
    const figure = {
      id: 'deep_alignment',
      caption: 'Alignment between consecutive layers of a 4-layer ReLU MLP on MNIST against the init scale, at initialization and after training with the same learning rate and number of steps at every scale (Fig. 2b of the paper): training aligns the layers less from a larger init.',
      spec: lineChart({ title: 'Layer alignment vs init scale (MNIST)', data, x: { field: 'model.initScale', title: 'init scale' }, y: { field: 'alignment', title: 'alignment ‖W h‖ / (‖W‖₂‖h‖)' }, color: { field: 'series', title: 'layers' }, points: true }),
    };
    return {
      title: input.spec.report.title ?? input.name,
      summary: [
        `mean alignment between consecutive layers after training: ${trained.map((p) => `${formatValue(p.mean)} at init scale ${p.x}`).join(', ')}.`,
        `at initialization (the random net's alignment, the baseline): ${initial.map((p) => `${formatValue(p.mean)} at init scale ${p.x}`).join(', ')}.`,
        `gain from training (final − initial, mean over layers and seeds): ${gain.map((p) => `${formatValue(p.mean)} at init scale ${p.x}`).join(', ')}.`,
        `gain at init ${gainDrop.from} minus gain at init ${gainDrop.to}, paired by seed: ${formatMeanSe(gainDrop)} (${gainDrop.above} of ${gainDrop.count} seeds larger at the smaller init, ${gainDrop.below} smaller).`,
      ],
      figures: [figure],
      table: input.rows,
    };
  }
  const { trajectories, theory, phase, ntkWidth, boundary, finding } = mechanismsAnalysis(input);
  const widthLimit = ntkWidth.length > 0 ? ntkWidthFinding(ntkWidth) : null;
  const linear = trajectories.filter((d) => d.activations === undefined);
  const nonlinear = trajectories.filter((d) => d.activations === 1);
  const time = { field: 'time', title: 'time t (learning rate × steps)' };
  const color = { field: 'case', title: 'case' };
  const figures = [
    {
      id: 'output',
      caption: 'Output at the effective point f(t): simulated gradient flow (points) over the exact solution (dashed).',
      spec: lineChart({ title: 'f(t): simulation and exact solution', data: linear, x: time, y: { field: 'output', title: 'f(x)' }, color, points: true, theory: { data: theory, label: 'exact solution' } }),
    },
    {
      id: 'alignment',
      caption: 'Alignment ζ = cos∠(u, Wx): rises to ±1 (alignment), falls towards 0 (disalignment), or stays ±1 (rescaling); dashed: exact solution.',
      spec: lineChart({ title: 'ζ(t): simulation and exact solution', data: linear, x: time, y: { field: 'alignment', title: 'ζ', domain: [-1, 1] }, color, points: true, theory: { data: theory, label: 'exact solution' } }),
    },
    {
      id: 'norms',
      caption: 'Norm of the output weights ‖u‖ over time: rescaling changes norms at fixed ζ; dashed: exact solution.',
      spec: lineChart({ title: '‖u(t)‖: simulation and exact solution', data: linear, x: time, y: { field: 'uNorm', title: '‖u‖' }, color, points: true, theory: { data: theory, label: 'exact solution' } }),
    },
    ...(Object.keys(PHASE_AXES) as (keyof typeof PHASE_AXES)[])
      .filter((part) => phase.some((d) => d.part === part))
      .flatMap((part) => {
        const cells = phase.filter((d) => d.part === part);
        const line = boundary.filter((d) => d.part === part);
        const axis = PHASE_AXES[part];
        const name = part === 'phase' ? 'learning-rate ratio' : part === 'phase-width' ? 'width' : 'output scale';
        return [
          {
            id: `${part.replace('-', '_')}_measured`,
            caption: `Phase diagram over the init scale and the ${name}, simulated: log10 K∞/K₀ of the NTK of the point (0 = kernel regime). Dashed: the analytic boundary, the smallest init scale whose exact K∞/K₀ is within 10% of 1.`,
            spec: phaseChart(`log10 K∞/K₀ over init scale and ${name}, simulated`, cells, line, axis, 'measured'),
          },
          {
            id: `${part.replace('-', '_')}_predicted`,
            caption: `The same cells from the closed form started at each trial's initial state, with the analytic boundary.`,
            spec: phaseChart(`log10 K∞/K₀ over init scale and ${name}, exact`, cells, line, axis, 'predicted'),
          },
        ];
      }),
    {
      id: 'activations',
      caption: 'ζ(t) from a small init for nonlinear two-layer nets on the same 1D data: they align like the linear net.',
      spec: lineChart({ title: 'ζ(t) for nonlinear activations', data: nonlinear, x: time, y: { field: 'alignment', title: 'ζ', domain: [-1, 1] }, color: { field: 'case', title: 'activation' } }),
    },
  ];
  const summary = [
    `exact solution versus simulation: max |Δf| = ${formatValue(finding.maxOutputError)}, max |Δζ| = ${formatValue(finding.maxAlignmentError)}.`,
    `the three mechanisms, each from its own init, as measured: ${finding.mechanisms
      .map((m) => `${m.case}: |ζ| ${m.alignmentChange >= 0 ? '+' : ''}${formatValue(m.alignmentChange)} (largest drift ${formatValue(m.alignmentDrift)}), ‖αu‖/‖h‖ × ${formatValue(m.normRatioChange)}, ‖αu‖ × ${formatValue(m.outputNormChange)}, ‖h‖ × ${formatValue(m.hiddenNormChange)}`)
      .join('; ')}.`,
    `phase diagram: the predicted regime (kernel if K changes by < 10%) matches the simulated one in ${finding.phaseAgreement.agree} of ${finding.phaseAgreement.total} cells.`,
    ...ratioLimitLines(phase),
    ...(widthLimit
      ? [
          `toward the kernel limit in width (NTK parametrization, one init): log10 K∞/K₀ at m = ${widthLimit.rows.map((r) => `${r.width}: ${formatValue(r.measured)} (exact ${formatValue(r.predicted)})`).join(', ')}${widthLimit.fall ? `; |log10 K∞/K₀| at m = ${widthLimit.from} minus at m = ${widthLimit.to}: ${formatPaired(widthLimit.fall, 'farther from the kernel at the smaller width')}` : ''}.`,
        ]
      : []),
    `final ζ from a small init: ${Object.entries(finding.finalAlignment)
      .map(([a, z]) => `${a} ${formatValue(z)}`)
      .join(', ')}.`,
  ];
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
