/**
 * The Jacobian's information and nuisance spaces (Oymak, Fabian, Li & Soltanolkotabi 2019, §4.3 of
 * PAPERS.md): J = Σ λ_s u_s v_sᵀ; I = span{u_s : λ_s ≥ α}, N = I⊥; how much of a vector lies in each.
 * Computed through the (n·K)² Gram matrix J Jᵀ = U diag(λ²) Uᵀ, cheaper than the SVD when n·K < p.
 */
import type { Backend } from '../linalg/backend.js';
import type { Dense } from './matrixOps.js';
import { MetricError } from './metric.js';

export interface JacobianSpectrum {
  /** λ_s, descending, of length n·K. */
  readonly singularValues: Float64Array;
  /** n·K × n·K, column s is u_s (same order as singularValues). */
  readonly leftVectors: Float64Array;
  readonly size: number;
}

export function jacobianSpectrum(backend: Backend, jacobian: Dense): JacobianSpectrum {
  const n = jacobian.rows;
  const gram = new Float64Array(n * n);
  backend.gram(jacobian.data, n, jacobian.cols, gram);
  return gramSpectrum(backend, gram, n);
}

/**
 * The same from the Gram matrix J Jᵀ (n × n) itself, e.g. a model's ntkGram. Each u_s is signed so
 * that its largest-magnitude entry is positive (scikit-learn's svd_flip convention): an eigensolver's
 * sign is arbitrary, and the residual's mode coordinates ⟨u_s, r⟩ must not depend on the device.
 */
export function gramSpectrum(backend: Backend, gram: Float64Array, n: number): JacobianSpectrum {
  const { values, vectors } = backend.symmetricEigen(gram, n);
  const singularValues = new Float64Array(n);
  const leftVectors = new Float64Array(n * n);
  for (let s = 0; s < n; s++) {
    const src = n - 1 - s;
    singularValues[s] = Math.sqrt(Math.max(values[src], 0));
    let largest = 0;
    for (let r = 0; r < n; r++) if (Math.abs(vectors[r * n + src]) > Math.abs(largest)) largest = vectors[r * n + src];
    const sign = largest < 0 ? -1 : 1;
    for (let r = 0; r < n; r++) leftVectors[r * n + s] = sign * vectors[r * n + src];
  }
  return { singularValues, leftVectors, size: n };
}

/**
 * How the cutoff α of the information space is chosen.
 * - gap: at the largest spectral gap, rank r = argmax_{1 ≤ r ≤ maxRank} λ_r / λ_{r+1} (the widest
 *   drop on a log scale), α = λ_r. maxRank (default ⌊n·K/2⌋) keeps the near-zero tail, where ratios
 *   of tiny values are noise, out of the search.
 * - relative: α = fraction × λ_1.
 * - absolute: α given.
 * - rank: the top `rank` singular vectors (Oymak et al.'s tables use the top 50), α = λ_rank.
 */
export const CUTOFF_RULES = ['gap', 'relative', 'absolute', 'rank'] as const;
export type CutoffRule = (typeof CUTOFF_RULES)[number];

export interface InformationCutoff {
  readonly rule: CutoffRule;
  readonly relative?: number;
  readonly absolute?: number;
  readonly maxRank?: number;
  readonly rank?: number;
}

export interface InformationSpace {
  /** dim I: the number of singular values ≥ cutoff. */
  readonly rank: number;
  /** α, the smallest singular value kept (0 for an empty space). */
  readonly cutoff: number;
  /** λ_rank / λ_{rank+1}: how clear the split is (Infinity when the next value is 0). */
  readonly gapRatio: number;
}

export function informationSpace(spectrum: JacobianSpectrum, cutoff: InformationCutoff): InformationSpace {
  const lambda = spectrum.singularValues;
  const size = spectrum.size;
  const ratioAt = (r: number) => (r >= size ? Infinity : lambda[r] > 0 ? lambda[r - 1] / lambda[r] : Infinity);
  let rank = 0;
  if (cutoff.rule === 'gap') {
    const last = Math.min(cutoff.maxRank ?? Math.floor(size / 2), size - 1);
    let best = -Infinity;
    for (let r = 1; r <= Math.max(last, 1) && lambda[r - 1] > 0; r++) {
      const ratio = ratioAt(r);
      if (ratio > best) {
        best = ratio;
        rank = r;
      }
      if (ratio === Infinity) break;
    }
  } else if (cutoff.rule === 'rank') {
    rank = Math.min(cutoff.rank ?? 1, size);
    while (rank > 0 && !(lambda[rank - 1] > 0)) rank--;
  } else {
    const alpha = cutoff.rule === 'absolute' ? (cutoff.absolute ?? 0) : (cutoff.relative ?? 0.1) * (lambda[0] ?? 0);
    while (rank < size && lambda[rank] >= alpha && lambda[rank] > 0) rank++;
  }
  return { rank, cutoff: rank > 0 ? lambda[rank - 1] : 0, gapRatio: rank > 0 ? ratioAt(rank) : 0 };
}

/** The information space's dimension under a cutoff rule. */
export function informationRank(spectrum: JacobianSpectrum, cutoff: InformationCutoff): number {
  return informationSpace(spectrum, cutoff).rank;
}

/** Coordinates of v in the left singular basis: c_s = ⟨u_s, v⟩, s = 1..n·K. */
export function modeCoefficients(spectrum: JacobianSpectrum, v: ArrayLike<number>): Float64Array {
  const n = spectrum.size;
  if (v.length !== n) throw new MetricError(`Jacobian modes: a vector of ${v.length} entries for a Jacobian of ${n} rows`);
  const c = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const vr = v[r];
    if (vr === 0) continue;
    const row = r * n;
    for (let s = 0; s < n; s++) c[s] += spectrum.leftVectors[row + s] * vr;
  }
  return c;
}

function squaredNorm(v: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < v.length; i++) total += v[i] * v[i];
  return total;
}

/** E(s) = ‖Π_s v‖² / ‖v‖² for s = 1..n·K (Π_s onto the top-s left singular vectors); chance for a random v is s/(n·K). */
export function cumulativeEnergy(spectrum: JacobianSpectrum, v: ArrayLike<number>): Float64Array {
  const total = squaredNorm(v);
  if (total === 0) throw new MetricError('energy fraction: the vector is zero');
  const c = modeCoefficients(spectrum, v);
  const out = new Float64Array(c.length);
  let inside = 0;
  for (let s = 0; s < c.length; s++) {
    inside += c[s] * c[s];
    out[s] = Math.min(1, inside / total);
  }
  return out;
}

/** Energy of v on the first `rank` left singular vectors, as a fraction of ‖v‖²: ‖Π_I v‖² / ‖v‖². */
export function energyFraction(spectrum: JacobianSpectrum, v: ArrayLike<number>, rank: number): number {
  return rank === 0 ? 0 : cumulativeEnergy(spectrum, v)[rank - 1];
}

/** ‖Π_I v‖ and ‖Π_N v‖ for I spanned by the first `rank` left singular vectors. */
/** `coefficients`: v's modeCoefficients when the caller has them already. */
export function splitNorms(spectrum: JacobianSpectrum, v: ArrayLike<number>, rank: number, coefficients?: Float64Array): { information: number; nuisance: number } {
  const c = coefficients ?? modeCoefficients(spectrum, v);
  let inside = 0;
  for (let s = 0; s < rank; s++) inside += c[s] * c[s];
  const outside = Math.max(squaredNorm(v) - inside, 0);
  return { information: Math.sqrt(inside), nuisance: Math.sqrt(outside) };
}

/**
 * v minus its projection on the span of `against` (Gram–Schmidt, twice for rounding). The label noise has
 * a mean that is not noise: ±1 labels flipped with probability p give y − y_clean = −2·y_clean on flipped
 * points, mean −2p·y_clean; one-hot rows of K classes flipped to another class give a mean
 * p/(K−1)·(1 − y_clean) − p·y_clean, in span{y_clean, 1}. Removing that span leaves the part whose energy in
 * a subspace that does not depend on the flips has chance level rank/(n·K).
 */
export function orthogonalComponent(v: ArrayLike<number>, ...against: readonly ArrayLike<number>[]): Float64Array {
  const out = Float64Array.from(v);
  const basis: Float64Array[] = [];
  for (const a of against) {
    const q = Float64Array.from(a);
    for (let pass = 0; pass < 2; pass++) for (const b of basis) subtractProjection(q, b);
    const norm = Math.sqrt(squaredNorm(q));
    if (norm <= 1e-12 * Math.sqrt(squaredNorm(a))) continue;
    for (let i = 0; i < q.length; i++) q[i] /= norm;
    basis.push(q);
  }
  for (let pass = 0; pass < 2; pass++) for (const b of basis) subtractProjection(out, b);
  return out;
}

/** v ← v − ⟨v, u⟩·u for a unit vector u. */
function subtractProjection(v: Float64Array, u: Float64Array): void {
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += v[i] * u[i];
  for (let i = 0; i < v.length; i++) v[i] -= dot * u[i];
}
