/** Alignment and regime measures of weights: neuron directions, layer alignment, distance from init, ranks. */
import betainc from '@stdlib/math-base-special-betainc';
import type { Backend } from '../linalg/backend.js';
import { type Dense, singularValuesViaGram, sumSquares } from './matrixOps.js';
import { MetricError } from './metric.js';

function rowNorm(m: Dense, j: number): number {
  let s = 0;
  for (let c = 0; c < m.cols; c++) s += m.data[j * m.cols + c] ** 2;
  return Math.sqrt(s);
}

/** cos(w_j, r_t) for every neuron row j of w and reference row t of r: a rows(w) × rows(r) table. */
export function cosineTable(w: Dense, references: Dense): Dense {
  if (w.cols !== references.cols) throw new MetricError(`reference directions have ${references.cols} entries, the neurons ${w.cols}`);
  const out = new Float64Array(w.rows * references.rows);
  for (let j = 0; j < w.rows; j++) {
    const nw = rowNorm(w, j);
    for (let t = 0; t < references.rows; t++) {
      const nr = rowNorm(references, t);
      let d = 0;
      for (let c = 0; c < w.cols; c++) d += w.data[j * w.cols + c] * references.data[t * w.cols + c];
      out[j * references.rows + t] = nw > 0 && nr > 0 ? d / (nw * nr) : 0;
    }
  }
  return { rows: w.rows, cols: references.rows, data: out };
}

export interface DirectionClusters {
  /** Clusters carrying at least massFraction of the total weight. */
  readonly distinct: number;
  /** Fraction of the total weight in the heaviest one and two clusters. */
  readonly topMass: number;
  readonly top2Mass: number;
  /** 1/Σ_c p_c² over the clusters' mass shares p_c: how many equally heavy directions carry the weight. */
  readonly effective: number;
}

/**
 * Neurons grouped by direction (Boursier & Flammarion 2025, §4: "cluster the large neurons by cosine"):
 * greedily, heaviest first, a neuron joins the first cluster whose leader is within angleTolerance
 * (degrees) of it, else leads a new one; a cluster counts when it holds ≥ massFraction of the weight.
 */
export function directionClusters(w: Dense, weights: ArrayLike<number>, angleTolerance: number, massFraction: number): DirectionClusters {
  const m = w.rows;
  const total = Array.from({ length: m }, (_, j) => weights[j]).reduce((a, b) => a + b, 0);
  if (!(total > 0)) return { distinct: 0, topMass: 0, top2Mass: 0, effective: 0 };
  const order = Array.from({ length: m }, (_, j) => j).sort((a, b) => weights[b] - weights[a]);
  const threshold = Math.cos((angleTolerance * Math.PI) / 180);
  const leaders: number[] = [];
  const masses: number[] = [];
  for (const j of order) {
    if (!(weights[j] > 0)) continue;
    const nj = rowNorm(w, j);
    let joined = false;
    for (let c = 0; c < leaders.length && !joined; c++) {
      const l = leaders[c];
      let d = 0;
      for (let k = 0; k < w.cols; k++) d += w.data[j * w.cols + k] * w.data[l * w.cols + k];
      if (d / (nj * rowNorm(w, l)) >= threshold) {
        masses[c] += weights[j];
        joined = true;
      }
    }
    if (!joined) {
      leaders.push(j);
      masses.push(weights[j]);
    }
  }
  const sorted = [...masses].sort((a, b) => b - a);
  return {
    distinct: masses.filter((mass) => mass >= massFraction * total).length,
    topMass: sorted[0] / total,
    top2Mass: (sorted[0] + (sorted[1] ?? 0)) / total,
    effective: 1 / masses.reduce((sum, mass) => sum + (mass / total) ** 2, 0),
  };
}

/** mean over pairs j ≠ k of |cos(w_j, w_k)| (Yeom et al. 2026's over-alignment, as PAPERS.md §1.3 suggests); table = cosineTable(w, w) when the caller has it. */
export function meanAbsPairCosine(w: Dense, table: Dense = cosineTable(w, w)): number {
  if (w.rows < 2) throw new MetricError('meanAbsPairCosine needs at least two neurons');
  let s = 0;
  for (let j = 0; j < w.rows; j++) for (let k = 0; k < w.rows; k++) if (j !== k) s += Math.abs(table.data[j * w.rows + k]);
  return s / (w.rows * (w.rows - 1));
}

/**
 * Σ_{j≠k} c_j c_k |cos(w_j, w_k)| / Σ_{j≠k} c_j c_k with c_j a neuron's contribution (|a_j|·‖w_j‖ in a
 * two-layer net): the pairwise alignment of the neurons that carry the function, blind to small ones.
 */
export function weightedAbsPairCosine(w: Dense, contributions: ArrayLike<number>, table: Dense = cosineTable(w, w)): number | null {
  let s = 0;
  let total = 0;
  for (let j = 0; j < w.rows; j++)
    for (let k = 0; k < w.rows; k++) {
      if (j === k) continue;
      const weight = contributions[j] * contributions[k];
      s += weight * Math.abs(table.data[j * w.rows + k]);
      total += weight;
    }
  return total > 0 ? s / total : null;
}

/**
 * Alignment of a layer's weights with its input representation, generalizing Xu & Ziyin's
 * ζ = uᵀWx / (‖u‖‖Wx‖) (seed 002, eq. "angle"): the mean over inputs h of ‖W h‖ / (‖W‖₂ ‖h‖), which
 * is |cos(u, h)| for a single output row u and 1 when every h lies along W's top right singular vector.
 */
export function layerAlignment(backend: Backend, weights: Dense, inputs: Dense): number {
  const top = singularValuesViaGram(backend, weights)[0];
  if (!(top > 0)) throw new MetricError('layer alignment: the weight matrix is zero');
  const product = new Float64Array(inputs.rows * weights.rows);
  backend.gemm(false, true, inputs.rows, weights.rows, weights.cols, 1, inputs.data, weights.data, 0, product);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < inputs.rows; i++) {
    let hh = 0;
    for (let c = 0; c < inputs.cols; c++) hh += inputs.data[i * inputs.cols + c] ** 2;
    if (hh === 0) continue;
    let wh = 0;
    for (let r = 0; r < weights.rows; r++) wh += product[i * weights.rows + r] ** 2;
    sum += Math.sqrt(wh) / (top * Math.sqrt(hh));
    count++;
  }
  if (count === 0) throw new MetricError('layer alignment: every input representation is zero');
  return sum / count;
}

/** uᵀv / (‖u‖‖v‖), or null when either vector is zero (no direction). */
export function cosine(u: ArrayLike<number>, v: ArrayLike<number>): number | null {
  let d = 0;
  let uu = 0;
  let vv = 0;
  for (let i = 0; i < u.length; i++) {
    d += u[i] * v[i];
    uu += u[i] * u[i];
    vv += v[i] * v[i];
  }
  return uu > 0 && vv > 0 ? d / Math.sqrt(uu * vv) : null;
}

/** Signed ζ = uᵀh / (‖u‖‖h‖) for one output row u and one representation h (seed 002). */
export function signedAlignment(u: ArrayLike<number>, h: ArrayLike<number>): number {
  const c = cosine(u, h);
  if (c === null) throw new MetricError('alignment angle: a zero vector has no direction');
  return c;
}

/** ‖θ − θ₀‖ / ‖θ₀‖ (Xu & Ziyin's relative distance from initialization); 0 init gives ‖θ‖-free error. */
export function relativeDistance(current: ArrayLike<number>, initial: ArrayLike<number>): number {
  let diff = 0;
  for (let i = 0; i < current.length; i++) diff += (current[i] - initial[i]) ** 2;
  const base = sumSquares(initial);
  if (base === 0) throw new MetricError('relative distance from init: the initial weights are zero');
  return Math.sqrt(diff / base);
}

/** ‖W‖_F² / ‖W‖₂² (Rudelson & Vershynin 2007). */
export function stableRank(backend: Backend, w: Dense): number {
  const top = singularValuesViaGram(backend, w)[0];
  if (!(top > 0)) throw new MetricError('stable rank of a zero matrix');
  return sumSquares(w.data) / (top * top);
}

/** exp(entropy of σ_i / Σσ) (Roy & Vetterli 2007). */
export function effectiveRank(singularValues: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < singularValues.length; i++) total += singularValues[i];
  if (!(total > 0)) throw new MetricError('effective rank of a zero matrix');
  let entropy = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const p = singularValues[i] / total;
    if (p > 0) entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

/**
 * The share of a two-layer net's neuron mass |a_j|·‖w_j‖ whose direction lies within `angle` degrees of
 * sign(a_j)·v (Boursier & Flammarion 2025: above the optimization threshold the neurons collapse onto ±β̂), and
 * the share for directions uniform on the sphere: the cap {u : ∠(u, v) ≤ θ} of S^{d−1} holds
 * ½·I_{sin²θ}((d − 1)/2, ½) of it (I the regularized incomplete beta; for d = 3, (1 − cos θ)/2).
 */
export function signedDirectionMass(w: Dense, a: ArrayLike<number>, v: ArrayLike<number>, angle: number): { mass: number | null; chance: number } {
  const d = w.cols;
  let vNorm = 0;
  for (let i = 0; i < d; i++) vNorm += v[i] * v[i];
  vNorm = Math.sqrt(vNorm);
  const theta = (angle * Math.PI) / 180;
  const cosine = Math.cos(theta);
  let total = 0;
  let aligned = 0;
  for (let j = 0; j < w.rows; j++) {
    let norm = 0;
    let dot = 0;
    for (let i = 0; i < d; i++) {
      const x = w.data[j * d + i];
      norm += x * x;
      dot += x * v[i];
    }
    norm = Math.sqrt(norm);
    const mass = Math.abs(a[j]) * norm;
    if (!(mass > 0)) continue;
    total += mass;
    if (Math.sign(a[j]) * dot >= cosine * norm * vNorm) aligned += mass;
  }
  return { mass: total > 0 && vNorm > 0 ? aligned / total : null, chance: 0.5 * betainc(Math.sin(theta) ** 2, (d - 1) / 2, 0.5) };
}
