/**
 * The phase diagram of seed 002, live: a two-layer linear net on 1D data, its init scale and the ratio
 * of layer-wise learning rates η_u/η_w (η_u·η_w = 1; the convention of the report and the docs) chosen on sliders or by clicking the map. The map
 * is the closed form's K∞/K₀ for this net's own initial draw (the effective point scales with the init
 * scale); beside it the closed-form f(t) and a live gradient-descent run of the same net.
 */
import { DEFAULT_LAB_STATE, type LabState } from '../../lab/labState.js';
import { regimeOf, solveFromEffectivePoint, type EffectivePointState } from '../../../theory/linearNetwork1d.js';
import { liveLineSpec, showChart, type ChartView } from '../charts.js';
import { clear, formatNumber, h } from '../dom.js';
import { LabSession } from '../lab/labSession.js';
import type { TopLevelSpec } from 'vega-lite';

const SCALES = Array.from({ length: 17 }, (_, i) => 10 ** (-3 + i * 0.25));
const RATIOS = Array.from({ length: 13 }, (_, i) => 10 ** (-3 + i * 0.5));

function clampLog(text: string | null, fallback: number, lo: number, hi: number): number {
  const v = Number(text);
  return text !== null && Number.isFinite(v) && v >= lo && v <= hi ? v : fallback;
}

function nearest(grid: readonly number[], v: number): number {
  return grid.reduce((best, g) => (Math.abs(Math.log(g / v)) < Math.abs(Math.log(best / v)) ? g : best));
}

/** ratio = η_u/η_w (output row over input layer) with η_u·η_w = 1. */
function ratesOf(ratio: number) {
  return { etaU: Math.sqrt(ratio), etaW: 1 / Math.sqrt(ratio) };
}

export function phaseView(root: HTMLElement, search: URLSearchParams): () => void {
  let initScale = clampLog(search.get('initScale'), 0.1, 1e-3, 10);
  let ratio = clampLog(search.get('ratio'), 1, 1e-3, 1e3);
  /** The effective point of the net drawn at init scale 1 (norms scale linearly with it). */
  let unitPoint: EffectivePointState | null = null;
  let learningRate = 0.01;

  const scaleInput = h('input', { type: 'range', min: -3, max: 1, step: 0.05, name: 'initScale' });
  const ratioInput = h('input', { type: 'range', min: -3, max: 3, step: 0.05, name: 'ratio' });
  const verdict = h('p', { id: 'phase-regime', class: 'verdict' });
  const mapBox = h('div', { class: 'chart', id: 'phase-map' });
  const curveBox = h('div', { class: 'chart', id: 'phase-curve' });
  const steps = h('span', { id: 'phase-steps' }, '0');
  const deviation = h('span', { id: 'phase-deviation' }, '—');
  clear(root);
  root.append(
    h('h1', {}, 'Kernel or feature learning: a two-layer linear net on 1D data'),
    h('p', { class: 'muted' }, 'Xu & Ziyin (2025). Width 50, 20 points on a line in 2D, square loss, gradient descent (time = steps × learning rate).'),
    h('div', { class: 'phase-controls' }, h('label', {}, 'init scale ', scaleInput), h('label', {}, 'η_u / η_w ', ratioInput), verdict),
    h(
      'div',
      { class: 'phase' },
      mapBox,
      h('div', { class: 'phase-curve' }, curveBox, h('p', { class: 'muted' }, 'simulated steps: ', steps, '; largest |f_GD(t) − f(t)| so far: ', deviation)),
    ),
  );

  let curveView: ChartView | null = null;
  let endTime = 1;
  /** Gradient-descent steps between two drawn points: about 150 points up to endTime. */
  let stepsPerPoint = 1;
  let solution: ReturnType<typeof solveFromEffectivePoint> | null = null;
  let largestDeviation = 0;
  let drawnPoints = 0;

  const pointAt = (s: number): EffectivePointState | null => (unitPoint ? { ...unitPoint, outputNorm: unitPoint.outputNorm * s, hiddenNorm: unitPoint.hiddenNorm * s } : null);

  const labState = (): LabState => ({
    ...DEFAULT_LAB_STATE,
    toy: 'linear1d',
    activation: 'linear',
    width: 50,
    n: 20,
    initScale,
    learningRate,
    rateFirst: ratesOf(ratio).etaW,
    rateSecond: ratesOf(ratio).etaU,
  });

  const session = new LabSession({
    ready: (m) => {
      if (!m.effectivePoint) return;
      if (!unitPoint) {
        unitPoint = { ...m.effectivePoint, outputNorm: m.effectivePoint.outputNorm / initScale, hiddenNorm: m.effectivePoint.hiddenNorm / initScale };
        void drawMap();
        return restart();
      }
      // Stepped from the page, not run free: one drawn point per stepsPerPoint steps, densely enough to compare with the closed form.
      session.step(stepsPerPoint);
    },
    snapshot: (m) => {
      const s = m.snapshot;
      steps.textContent = String(s.step);
      steps.dataset.value = String(s.step);
      const output = s.measures['point.output'];
      if (typeof output === 'number') {
        void curveView?.insert('points', [{ x: s.time, y: output, series: 'simulation (GD)' }]).runAsync();
        drawnPoints++;
        curveBox.dataset.points = String(drawnPoints);
        if (solution) {
          largestDeviation = Math.max(largestDeviation, Math.abs(output - solution.at(s.time).output));
          deviation.textContent = formatNumber(largestDeviation);
          deviation.dataset.value = String(largestDeviation);
        }
      }
      if (s.time < endTime) session.step(stepsPerPoint);
    },
    error: (message) => {
      verdict.textContent = message;
    },
  });

  function restart(): void {
    history.replaceState(null, '', `/phase?initScale=${initScale}&ratio=${ratio}`);
    scaleInput.value = String(Math.log10(initScale));
    ratioInput.value = String(Math.log10(ratio));
    const point = pointAt(initScale);
    if (!point) return session.reset(labState());
    solution = solveFromEffectivePoint(point, ratesOf(ratio));
    largestDeviation = 0;
    drawnPoints = 0;
    // The range of f, against which the simulation's deviation is read.
    deviation.dataset.scale = String(Math.max(Math.abs(solution.initial.output), Math.abs(solution.final.output)));
    const regime = regimeOf(solution.ntkRatio);
    verdict.textContent = `K∞/K₀ = ${formatNumber(solution.ntkRatio)}: ${regime === 'kernel' ? 'kernel regime (the NTK barely moves)' : 'feature learning (the NTK changes)'}; final alignment ζ∞ = ${formatNumber(solution.final.alignment)}`;
    verdict.dataset.regime = regime;
    // Stable steps, well under 2/K for the largest NTK along the way, and at least 300 of them to the
    // end of the plot, so gradient descent follows the flow closely.
    const settle = 8 / solution.rate;
    learningRate = Math.min(0.05, 0.2 / Math.max(solution.initial.ntk, solution.final.ntk), settle / 300);
    endTime = Math.min(settle, 2e5 * learningRate);
    stepsPerPoint = Math.max(1, Math.ceil(endTime / learningRate / 150));
    const exact = solution;
    const time = Array.from({ length: 160 }, (_, i) => (endTime * i) / 159);
    const theory = time.map((t) => ({ x: t, y: exact.at(t).output, series: 'closed form' }));
    void showChart(curveBox, liveLineSpec({ title: 'f(t) at the effective point', x: 'time t', y: 'f(t)', logY: false, dashed: 'closed form' })).then((v) => {
      curveView = v;
      return v.insert('points', theory).runAsync();
    });
    void drawMap();
    session.reset(labState());
  }

  async function drawMap(): Promise<void> {
    if (!unitPoint) return;
    const cells = SCALES.flatMap((s) =>
      RATIOS.map((r) => {
        const point = pointAt(s) as EffectivePointState;
        const k = solveFromEffectivePoint(point, ratesOf(r)).ntkRatio;
        return { initScale: s, ratio: r, logRatio: Math.log10(k), regime: regimeOf(k) };
      }),
    );
    // A symmetric colour domain, so the legend spans the blue cells (the NTK shrinks) as well as the red.
    const reach = Math.max(1e-3, ...cells.map((c) => Math.abs(c.logRatio)).filter(Number.isFinite));
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'predicted log₁₀ K∞/K₀ (click to choose)',
      width: 340,
      height: 300,
      layer: [
        {
          data: { values: cells },
          mark: 'rect',
          encoding: {
            x: { field: 'initScale', type: 'ordinal', title: 'init scale', axis: { format: '.0e', labelAngle: -45 } },
            y: { field: 'ratio', type: 'ordinal', title: 'η_u / η_w', sort: 'descending', axis: { format: '.0e' } },
            color: {
              field: 'logRatio',
              type: 'quantitative',
              title: ['log₁₀ K∞/K₀', '> 0: the NTK grows', '< 0: it shrinks', '≈ 0: kernel regime'],
              scale: { scheme: 'redblue', domain: [-reach, reach], reverse: true },
            },
            tooltip: [
              { field: 'initScale', type: 'quantitative', format: '.2g' },
              { field: 'ratio', type: 'quantitative', format: '.2g', title: 'η_u/η_w' },
              { field: 'logRatio', type: 'quantitative', format: '.3f', title: 'log₁₀ K∞/K₀' },
              { field: 'regime', type: 'nominal' },
            ],
          },
        },
        {
          // The chosen point, on the nearest cell.
          data: { values: [{ initScale: nearest(SCALES, initScale), ratio: nearest(RATIOS, ratio) }] },
          mark: { type: 'point', shape: 'square', size: 260, stroke: 'black', strokeWidth: 2, filled: false },
          encoding: { x: { field: 'initScale', type: 'ordinal' }, y: { field: 'ratio', type: 'ordinal', sort: 'descending' } },
        },
      ],
    } as unknown as TopLevelSpec;
    const view = await showChart(mapBox, spec);
    view.addEventListener('click', (_e, item) => {
      const d = (item as { datum?: { initScale?: number; ratio?: number } } | null)?.datum;
      if (typeof d?.initScale !== 'number' || typeof d.ratio !== 'number') return;
      initScale = d.initScale;
      ratio = d.ratio;
      restart();
    });
  }

  scaleInput.addEventListener('change', () => {
    initScale = Number((10 ** Number(scaleInput.value)).toPrecision(3));
    restart();
  });
  ratioInput.addEventListener('change', () => {
    ratio = Number((10 ** Number(ratioInput.value)).toPrecision(3));
    restart();
  });
  restart();
  return () => session.close();
}
