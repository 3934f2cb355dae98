/**
 * Xu & Ziyin (2025): the simulated output f(t), alignment ζ(t) and layer norms of a two-layer linear
 * net on 1D data drawn over the exact solution; the phase diagram of K_∞/K₀ (measured and predicted)
 * over the init scale and the learning-rate ratio; ζ(t) for nonlinear activations.
 */
import { regimeOf, solveFromEffectivePoint } from '../../theory/linearNetwork1d.js';
import { linearNetworkRates } from '../../theory/linearNetworkRates.js';
import type { Parametrization } from '../../models/parametrization.js';
import { heatMap, lineChart, type Datum } from '../charts.js';
import { curveData, formatValue, meanBy, numericRows, type ReportInput } from '../data.js';
import type { ReportContent } from '../html.js';
import type { StoredTrial } from '../../run/store.js';

const POINT = ['point.output', 'point.target', 'point.inputNorm', 'point.hiddenNorm', 'point.outputNorm', 'alignmentAngle'];

interface TrialConfig {
  readonly model: { readonly activation: string; readonly hiddenWidths: number[]; readonly parametrization: Parametrization; readonly outputScale: number };
  readonly data: { readonly inputDim: number };
  readonly training: { readonly layerLearningRates?: number[] };
}

/** The closed form's rates for a stored trial: the parametrization's multipliers, α and the layer rates folded in. */
function rates(t: StoredTrial): { etaW: number; etaU: number } {
  const c = t.config as TrialConfig;
  return linearNetworkRates({ parametrization: c.model.parametrization, widths: [c.data.inputDim, c.model.hiddenWidths[0], 1], outputScale: c.model.outputScale, layerLearningRates: c.training.layerLearningRates });
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

export interface MechanismsFinding {
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
  const grouped = new Map<string, Datum[]>();
  for (const d of curves) grouped.set(d.trial as string, [...(grouped.get(d.trial as string) ?? []), d]);
  for (const list of grouped.values()) list.sort((a, b) => (a.step as number) - (b.step as number));

  const trajectories: Datum[] = [];
  const theory: Datum[] = [];
  let maxOutputError = 0;
  let maxAlignmentError = 0;
  const phase: Datum[] = [];
  const finalAlignment: Record<string, number> = {};
  const outputErrorByCase: Record<string, number> = {};
  let agree = 0;
  let total = 0;
  for (const [id, list] of grouped) {
    const t = byTrial.get(id) as StoredTrial;
    const part = t.point.part;
    const activation = (t.config as TrialConfig).model.activation;
    if (part === 'trajectories' || part === 'parametrizations') {
      const c = t.config as TrialConfig;
      const width = c.model.hiddenWidths[0];
      const label =
        part === 'parametrizations'
          ? `${c.model.parametrization}, α = ${c.model.outputScale}`
          : width === 1
            ? 'rescaling (one unit)'
            : (list[0].alignmentAngle as number) * (list[0]['point.target'] as number) < 0 || width === 2
              ? 'disalignment'
              : 'alignment';
      const caseName = `${label}, seed ${String(t.point.seed ?? 0)}`;
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
    } else if (part === 'phase') {
      const first = list[0];
      const last = list[list.length - 1];
      const measured = ntkOf(last, t) / ntkOf(first, t);
      const predicted = solutionFor(first, t).ntkRatio;
      const { etaU, etaW } = rates(t);
      const initScale = (t.config as { model: { initScale: number } }).model.initScale;
      phase.push({ initScale, ratio: etaU / etaW, measured: Math.log10(measured), predicted: Math.log10(predicted) });
      total++;
      if (regimeOf(measured) === regimeOf(predicted)) agree++;
    } else if (part === 'activations') {
      for (const d of list) trajectories.push({ case: `${activation}`, time: d.time, alignment: d.alignmentAngle, activations: 1 });
      finalAlignment[activation] = list[list.length - 1].alignmentAngle as number;
    }
  }
  return { trajectories, theory, phase, finding: { maxOutputError, outputErrorByCase, maxAlignmentError, phaseAgreement: { agree, total }, finalAlignment } satisfies MechanismsFinding };
}

/** Fig. 2 of the paper: the final alignment between consecutive layers of a deep net against the init scale. */
function deepNetFigure(input: ReportInput) {
  const rows = numericRows(
    input.rows.filter((r) => r.part === 'mnist'),
    ['model.initScale'],
  );
  const data = rows.flatMap((r) =>
    Object.entries(r)
      .filter(([k, v]) => /^layer\d+\.alignment$/.test(k) && typeof v === 'number')
      .map(([k, v]) => ({ 'model.initScale': r['model.initScale'], alignment: v, layer: `layers ${Number(k.slice(5, k.indexOf('.'))) - 1}–${k.slice(5, k.indexOf('.'))}` })),
  );
  return { data, figure: { id: 'deep_alignment', caption: 'Alignment between consecutive layers of a 4-layer ReLU MLP trained on MNIST, against the init scale: it falls as the init grows (Fig. 2b of the paper).', spec: lineChart({ title: 'Layer alignment vs init scale (MNIST)', data, x: { field: 'model.initScale', title: 'init scale' }, y: { field: 'alignment', title: 'alignment ‖W h‖ / (‖W‖₂‖h‖)' }, color: { field: 'layer', title: 'layers' }, points: true }) } };
}

export function mechanismsReport(input: ReportInput): ReportContent {
  if (input.rows.some((r) => r.part === 'mnist') && !input.rows.some((r) => r.part === 'trajectories')) {
    const { data, figure } = deepNetFigure(input);
    const byScale = meanBy(data, 'model.initScale', 'alignment');
    return {
      title: input.spec.report.title ?? input.name,
      summary: [`mean alignment between consecutive layers after training: ${byScale.map((p) => `${formatValue(p.mean)} at init scale ${p.x}`).join(', ')}.`],
      figures: [figure],
      table: input.rows,
    };
  }
  const { trajectories, theory, phase, finding } = mechanismsAnalysis(input);
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
    {
      id: 'phase_measured',
      caption: 'Phase diagram, simulated: log10 K_∞/K₀ of the NTK of the point (0 = kernel regime). Large init, or a far-from-1 learning-rate ratio, is kernel.',
      spec: heatMap({ title: 'log10 K∞/K₀, simulated', data: phase, x: { field: 'initScale', title: 'init scale' }, y: { field: 'ratio', title: 'η_u / η_w' }, value: { field: 'measured', title: 'log10 K∞/K₀' } }),
    },
    {
      id: 'phase_predicted',
      caption: 'Phase diagram, predicted by the closed form from each trial’s initial state.',
      spec: heatMap({ title: 'log10 K∞/K₀, exact solution', data: phase, x: { field: 'initScale', title: 'init scale' }, y: { field: 'ratio', title: 'η_u / η_w' }, value: { field: 'predicted', title: 'log10 K∞/K₀' } }),
    },
    {
      id: 'activations',
      caption: 'ζ(t) from a small init for nonlinear two-layer nets on the same 1D data: they align like the linear net.',
      spec: lineChart({ title: 'ζ(t) for nonlinear activations', data: nonlinear, x: time, y: { field: 'alignment', title: 'ζ', domain: [-1, 1] }, color: { field: 'case', title: 'activation' } }),
    },
  ];
  const summary = [
    `exact solution versus simulation: max |Δf| = ${formatValue(finding.maxOutputError)}, max |Δζ| = ${formatValue(finding.maxAlignmentError)}.`,
    `phase diagram: the predicted regime (kernel if K changes by < 10%) matches the simulated one in ${finding.phaseAgreement.agree} of ${finding.phaseAgreement.total} cells.`,
    `final ζ from a small init: ${Object.entries(finding.finalAlignment)
      .map(([a, z]) => `${a} ${formatValue(z)}`)
      .join(', ')}.`,
  ];
  return { title: input.spec.report.title ?? input.name, summary, figures, table: input.rows };
}
