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
  const { values, vectors } = backend.symmetricEigen(gram, n);
  const singularValues = new Float64Array(n);
  const leftVectors = new Float64Array(n * n);
  for (let s = 0; s < n; s++) {
    const src = n - 1 - s;
    singularValues[s] = Math.sqrt(Math.max(values[src], 0));
    for (let r = 0; r < n; r++) leftVectors[r * n + s] = vectors[r * n + src];
  }
  return { singularValues, leftVectors, size: n };
}

/** The information space's dimension: singular values ≥ cutoff (absolute) or ≥ fraction × the largest. */
export function informationRank(spectrum: JacobianSpectrum, cutoff: { absolute?: number; relative?: number }): number {
  const top = spectrum.singularValues[0] ?? 0;
  const alpha = cutoff.absolute ?? (cutoff.relative ?? 0.1) * top;
  let rank = 0;
  while (rank < spectrum.size && spectrum.singularValues[rank] >= alpha && spectrum.singularValues[rank] > 0) rank++;
  return rank;
}

/** Energy of v on the first `rank` left singular vectors, as a fraction of ‖v‖²: ‖Π_I v‖² / ‖v‖². */
export function energyFraction(spectrum: JacobianSpectrum, v: ArrayLike<number>, rank: number): number {
  const n = spectrum.size;
  if (v.length !== n) throw new MetricError(`energy fraction: a vector of ${v.length} entries for a Jacobian of ${n} rows`);
  let total = 0;
  for (let i = 0; i < n; i++) total += v[i] * v[i];
  if (total === 0) throw new MetricError('energy fraction: the vector is zero');
  let inside = 0;
  for (let s = 0; s < rank; s++) {
    let c = 0;
    for (let r = 0; r < n; r++) c += spectrum.leftVectors[r * n + s] * v[r];
    inside += c * c;
  }
  return Math.min(1, inside / total);
}
