/**
 * Over-alignment in Yeom et al.'s (2026) Gaussian mixture x = κ·y·s + σ·z (data task gaussianMixture). From a
 * small balanced init the neurons of a two-layer ReLU net align with the empirical class means x̄₊ (neurons with
 * a_j > 0, active on the positive class) and x̄₋ (a_j < 0) instead of the Bayes directions ±s: the paper's
 * over-alignment is the angle between the neurons and x̄₊/‖x̄₊‖, read against s. Angles here are in degrees,
 * contribution-weighted by |a_j|·‖w_j‖:
 *   angleToMean  = Σ_j m_j ∠(w_j, x̄_{sign a_j}) / Σ_j m_j,     angleToBayes = Σ_j m_j ∠(w_j, sign(a_j)·s) / Σ_j m_j,
 *   meanToBayes  = ½(∠(x̄₊, s) + ∠(x̄₋, −s))  (how far the empirical means themselves sit from the Bayes directions),
 * and for the predictor, β_f = Σ_j a_j w_j (the direction a ReLU net with its neurons on ±x̄ computes; a
 * reconstruction: the paper's predictor angle could not be read), against x̄₊ − x̄₋ and s.
 */
import { cosine } from './alignment.js';
import type { Dense } from './matrixOps.js';

/** The angle between two vectors in degrees (90 when either is zero). */
export function angleDegrees(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const c = cosine(u, v);
  return c === null ? 90 : (Math.acos(Math.max(-1, Math.min(1, c))) * 180) / Math.PI;
}

/** The mean of the rows of x whose label has the given sign. */
export function classMean(x: Dense, labels: ArrayLike<number>, sign: 1 | -1): Float64Array {
  const mean = new Float64Array(x.cols);
  let count = 0;
  for (let i = 0; i < x.rows; i++) {
    if (Math.sign(labels[i]) !== sign) continue;
    count++;
    for (let j = 0; j < x.cols; j++) mean[j] += x.data[i * x.cols + j];
  }
  if (count > 0) for (let j = 0; j < x.cols; j++) mean[j] /= count;
  return mean;
}

export interface MixtureAngles {
  readonly angleToMean: number | null;
  readonly angleToBayes: number | null;
  readonly meanToBayes: number;
  readonly predictorToMean: number;
  readonly predictorToBayes: number;
}

/** The angles above for a two-layer net's first-layer rows w (m × d) and output weights a, class means and s. */
export function mixtureAngles(w: Dense, a: ArrayLike<number>, plus: Float64Array, minus: Float64Array, s: ArrayLike<number>): MixtureAngles {
  const d = w.cols;
  const negS = Float64Array.from({ length: d }, (_, i) => -s[i]);
  const predictor = new Float64Array(d);
  let total = 0;
  let toMean = 0;
  let toBayes = 0;
  for (let j = 0; j < w.rows; j++) {
    const row = w.data.subarray(j * d, (j + 1) * d);
    let norm = 0;
    for (let i = 0; i < d; i++) {
      norm += row[i] * row[i];
      predictor[i] += a[j] * row[i];
    }
    const mass = Math.abs(a[j]) * Math.sqrt(norm);
    if (!(mass > 0)) continue;
    total += mass;
    toMean += mass * angleDegrees(row, a[j] > 0 ? plus : minus);
    toBayes += mass * angleDegrees(row, a[j] > 0 ? s : negS);
  }
  const difference = Float64Array.from({ length: d }, (_, i) => plus[i] - minus[i]);
  return {
    angleToMean: total > 0 ? toMean / total : null,
    angleToBayes: total > 0 ? toBayes / total : null,
    meanToBayes: (angleDegrees(plus, s) + angleDegrees(minus, negS)) / 2,
    predictorToMean: angleDegrees(predictor, difference),
    predictorToBayes: angleDegrees(predictor, s),
  };
}
