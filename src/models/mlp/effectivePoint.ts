/**
 * The effective point of a two-layer net on 1D data (Xu & Ziyin 2025, Proposition 1): every input is
 * x = a·e, so the net is seen only through h = W(x̄e), x̄ = √(mean a²), and the output row αu. Placing
 * a net at a chosen (‖αu‖, ‖h‖, cos∠(u, h)) isolates one mechanism of feature learning per init.
 */
import type { Matrix } from '../../linalg/matrix.js';
import { Rng } from '../../linalg/rng.js';
import { sphereMatrix } from '../../linalg/samplers.js';
import type { MlpEnsemble } from './ensemble.js';

export interface EffectivePointInit {
  readonly outputNorm: number;
  readonly hiddenNorm: number;
  readonly alignment: number;
}

/** x̄ = √(mean over rows of (x·e)²): the size of the data's one effective input along the unit direction e. */
export function effectiveInputNorm(inputs: Matrix, e: ArrayLike<number>): number {
  let a2 = 0;
  for (let i = 0; i < inputs.rows; i++) {
    let a = 0;
    for (let c = 0; c < inputs.cols; c++) a += inputs.data[i * inputs.cols + c] * e[c];
    a2 += a * a;
  }
  return Math.sqrt(a2 / inputs.rows);
}

/** A unit vector orthogonal to the unit vector `to`: a uniform direction with its component along `to` removed. */
function unitOrthogonal(rng: Rng, to: Float64Array): Float64Array {
  for (;;) {
    const v = Float64Array.from(sphereMatrix(rng, 1, to.length).data);
    const along = v.reduce((s, x, i) => s + x * to[i], 0);
    for (let i = 0; i < v.length; i++) v[i] -= along * to[i];
    const norm = Math.hypot(...v);
    if (norm > 1e-8) return v.map((x) => x / norm);
  }
}

/**
 * Member k's weights set so that its effective point is `point`: W = (h/x̄)eᵀ with h = ‖h‖ĥ, and
 * u = (‖αu‖/α)(ζĥ + √(1 − ζ²)ĝ), ĝ ⊥ ĥ; the unit directions ĥ, ĝ drawn from `seed`.
 */
export function placeAtEffectivePoint(model: MlpEnsemble, k: number, direction: ArrayLike<number>, inputNorm: number, point: EffectivePointInit, seed: number): void {
  const [d, m, out] = model.widths;
  if (model.widths.length !== 3 || out !== 1) throw new Error('model.effectiveInit: needs a two-layer net with one output (model.hiddenWidths of length 1)');
  if (model.batch.biases.some((b) => b !== null)) throw new Error('model.effectiveInit: needs a net without biases (model.bias: false)');
  if (m < 2 && Math.abs(point.alignment) !== 1) throw new Error('model.effectiveInit.alignment: a net of width 1 has alignment ±1 only');
  if (!(inputNorm > 0)) throw new Error('model.effectiveInit: the data have no extent along their direction');
  const rng = Rng.fromSeed(seed).child('effectiveInit');
  const hHat = Float64Array.from(sphereMatrix(rng, 1, m).data);
  const gHat = m > 1 ? unitOrthogonal(rng, hHat) : new Float64Array(1);
  const w = new Float64Array(m * d);
  for (let j = 0; j < m; j++) for (let c = 0; c < d; c++) w[j * d + c] = (point.hiddenNorm * hHat[j] * direction[c]) / inputNorm;
  const uNorm = point.outputNorm / model.members[k].outputScale;
  const across = Math.sqrt(Math.max(0, 1 - point.alignment ** 2));
  const u = Float64Array.from(hHat, (v, j) => uNorm * (point.alignment * v + across * gHat[j]));
  model.setInitialEffectiveWeights(k, 0, w);
  model.setInitialEffectiveWeights(k, 1, u);
}
