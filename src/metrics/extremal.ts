/**
 * Early alignment (Boursier & Flammarion 2025, §2.2 of PAPERS.md): while the output is still ≈ 0, a
 * neuron's direction w̄_j follows d w̄/dt = sign(a_j)·(I − w̄w̄ᵀ)·D(w̄), with
 *
 *   D(w) = (1/n) Σ_k 1{⟨w, x_k⟩ > 0} y_k x_k,
 *
 * and settles on an extremal vector: a unit w with D(w) = G·w, G = ⟨w, D(w)⟩ > 0 (where neurons with
 * a_j > 0 go: local maximizers of G on the sphere) or G < 0 (a_j < 0: local minimizers). They are
 * found here as the fixed points of w ← ±D(w)/‖D(w)‖ from many random starts.
 */
import { Rng } from '../linalg/rng.js';
import type { Dense } from './matrixOps.js';

export interface ExtremalVectors {
  /** Unit rows with D(w) = G·w, G > 0. */
  readonly positive: Float64Array[];
  /** Unit rows with D(w) = G·w, G < 0. */
  readonly negative: Float64Array[];
}

/** D(w) for inputs x (n × d) and real targets y. */
export function alignmentField(inputs: Dense, targets: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const { rows: n, cols: d, data } = inputs;
  const out = new Float64Array(d);
  for (let k = 0; k < n; k++) {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += w[c] * data[k * d + c];
    if (dot <= 0) continue;
    for (let c = 0; c < d; c++) out[c] += (targets[k] * data[k * d + c]) / n;
  }
  return out;
}

function normalize(v: Float64Array): Float64Array | null {
  const norm = Math.hypot(...v);
  return norm > 0 ? v.map((x) => x / norm) : null;
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * Fixed points of w ← sign·D(w)/‖D(w)‖ from `starts` random directions (D is constant on each cone of
 * activation patterns, so the iteration stops after finitely many changes); equal ones (within 1e-9 in
 * cosine) are kept once.
 */
export function extremalVectors(inputs: Dense, targets: ArrayLike<number>, { starts = 256, seed = 0, maxIterations = 500 } = {}): ExtremalVectors {
  const rng = Rng.fromSeed(seed).child('extremal');
  const found = { positive: [] as Float64Array[], negative: [] as Float64Array[] };
  for (const sign of [1, -1] as const) {
    const list = sign > 0 ? found.positive : found.negative;
    for (let s = 0; s < starts; s++) {
      let w = normalize(Float64Array.from({ length: inputs.cols }, () => rng.gaussian()));
      for (let it = 0; w && it < maxIterations; it++) {
        const next = normalize(alignmentField(inputs, targets, w).map((v) => sign * v));
        if (!next) {
          w = null;
          break;
        }
        const settled = cosine(next, w) > 1 - 1e-12;
        w = next;
        if (settled) break;
      }
      // A fixed point with D(w) of the right sign: sign·G > 0.
      if (w && sign * cosine(alignmentField(inputs, targets, w), w) > 0 && !list.some((v) => cosine(v, w as Float64Array) > 1 - 1e-9)) list.push(w);
    }
  }
  return found;
}

/** The angle (degrees) from a direction to the nearest of a set of unit vectors (180 for an empty set). */
export function angleToNearest(direction: ArrayLike<number>, set: readonly Float64Array[]): number {
  const norm = Math.hypot(...Array.from(direction));
  if (!(norm > 0) || set.length === 0) return 180;
  let best = -1;
  for (const v of set) best = Math.max(best, cosine(direction, v) / norm);
  return (Math.acos(Math.min(1, Math.max(-1, best))) * 180) / Math.PI;
}
