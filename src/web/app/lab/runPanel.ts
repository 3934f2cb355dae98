/**
 * One run's view in the lab: the readout of its numbers (each with its definition on hover), f on the
 * plane under the data, and the neurons (arrows or their angle density). The lab shows one, or two
 * side by side.
 */
import { featureLearningStrength } from '../../../models/strength.js';
import type { LabState } from '../../lab/labState.js';
import type { LabData, LabSnapshot } from '../../lab/liveTraining.js';
import { formatNumber, h } from '../dom.js';
import { drawAngleDensity, drawBoundary, drawNeurons } from './planeView.js';

/** id, label, value, and the definition shown on hover. */
const READOUT: readonly [string, string, (s: LabSnapshot, state: LabState) => number | null, string][] = [
  ['step', 'step', (s) => s.step, 'optimizer steps so far (one minibatch each for sgd, and for adam with a batch size below n)'],
  ['train-loss', 'training loss', (s) => s.trainLoss, 'mean loss on all training points: logistic log(1 + e^(−yf)), or square ½(f − y)² (always on the 1D net)'],
  ['test-loss', 'test loss', (s) => s.testLoss, 'mean loss on 500 fresh points'],
  ['train-error', 'training error', (s) => s.trainError, 'fraction of training points with the wrong sign'],
  ['test-error', 'test error', (s) => s.testError, 'fraction of test points with the wrong sign'],
  ['fls', 'FLS = 1/(α·λ²)', (_s, state) => featureLearningStrength({ initScale: state.initScale, outputScale: state.outputScale, layers: 2 }), 'feature learning strength: the inverse effective output scale; large is rich (features move), small is lazy (kernel)'],
  ['directions', 'distinct directions', (s) => s.measures['neurons.distinctDirections'], 'clusters of neurons w_j within 10° of each other that carry ≥ 1 % of Σ|a_j|·‖w_j‖: few after early alignment'],
  ['top-mass', 'top-direction mass', (s) => s.measures['neurons.topDirectionMass'], 'share of Σ|a_j|·‖w_j‖ in the largest cluster; 1/width for scattered equal neurons'],
  ['teacher-alignment', 'alignment with teacher', (s) => s.measures['neurons.teacherAlignment'] ?? null, 'mean over neurons, weighted by |a_j|·‖w_j‖, of the largest |cos| with a teacher direction'],
  ['distance', 'distance from init', (s) => s.measures.distanceFromInit, '‖θ − θ₀‖ / ‖θ₀‖ over all weights'],
  ['ntk-change', 'NTK change', (s) => s.measures['ntk.relativeChange'] ?? null, '‖K − K₀‖_F / ‖K₀‖_F of the empirical NTK on 32 training points: near 0 in the kernel (lazy) regime, large when features are learned'],
  ['zeta', 'ζ (output row vs hidden)', (s) => s.measures.alignmentAngle ?? null, 'ζ = cos∠(u, Wx) between the output row and the hidden representation (Xu & Ziyin), averaged over inputs; ±1 aligned'],
];

const ARROWS_CAPTION = 'neurons w_j as arrows (blue a_j > 0, orange a_j < 0; thickness |a_j|); dashed: teacher directions';
const DENSITY_CAPTION = 'directions of the neurons: wedge area = share of |a_j|·‖w_j‖ in each 10° (blue a_j > 0, orange a_j < 0); dashed circle: random directions; dashed lines: teacher directions';

export interface NeuronView {
  readonly unitArrows: boolean;
  readonly angleDensity: boolean;
}

export class RunPanel {
  readonly element: HTMLElement;
  private readonly title: HTMLElement;
  private readonly cells = new Map<string, HTMLElement>();
  private readonly boundary: HTMLCanvasElement;
  private readonly neurons: HTMLCanvasElement;
  private readonly caption: HTMLElement;

  /** prefix: the ids' prefix ("lab" for the first run, "lab-b" for the second). */
  constructor(prefix: string) {
    const readout = h('dl', { class: 'readout', id: `${prefix}-readout` });
    for (const [id, label, , definition] of READOUT) {
      const dd = h('dd', { id: `${prefix}-${id}` }, '—');
      this.cells.set(id, dd);
      readout.append(h('div', { title: definition }, h('dt', {}, label), dd));
    }
    this.boundary = h('canvas', { width: 360, height: 360, id: `${prefix}-boundary`, 'aria-label': 'decision boundary and data' });
    this.neurons = h('canvas', { width: 360, height: 360, id: `${prefix}-neurons`, 'aria-label': 'neurons in the input plane' });
    this.caption = h('figcaption', { id: `${prefix}-neurons-caption` }, ARROWS_CAPTION);
    this.title = h('h3', { class: 'run-title', id: `${prefix}-title`, hidden: true });
    this.element = h(
      'div',
      { class: 'run', id: `${prefix}-panel` },
      this.title,
      readout,
      h('div', { class: 'planes' }, h('figure', {}, this.boundary, h('figcaption', {}, 'f on the plane (blue f > 0, orange f < 0) and the training data')), h('figure', {}, this.neurons, this.caption)),
    );
  }

  /** A heading naming the run (side by side), or none. */
  setTitle(text: string | null): void {
    this.title.textContent = text ?? '';
    this.title.hidden = text === null;
  }

  draw(s: LabSnapshot, state: LabState, data: LabData | null, view: NeuronView): void {
    for (const [id, , value] of READOUT) {
      const cell = this.cells.get(id) as HTMLElement;
      const v = value(s, state);
      cell.textContent = formatNumber(v);
      cell.dataset.value = v === null ? '' : String(v);
    }
    this.caption.textContent = view.angleDensity ? DENSITY_CAPTION : ARROWS_CAPTION;
    if (!data) return;
    drawBoundary(this.boundary, data, s);
    if (view.angleDensity) drawAngleDensity(this.neurons, data, s);
    else drawNeurons(this.neurons, data, s, view.unitArrows ? 'unit' : 'norm');
  }
}
