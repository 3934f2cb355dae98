/** Random matrices drawn from a stream: Gaussian, uniform, unit-sphere rows and orthonormal rows. */
import { type DType, type Matrix, zeros } from './matrix.js';
import type { Rng } from './rng.js';

export function gaussianMatrix(rng: Rng, rows: number, cols: number, std = 1, dtype: DType = 'float64'): Matrix {
  const m = zeros(rows, cols, dtype);
  for (let i = 0; i < m.data.length; i++) m.data[i] = std * rng.gaussian();
  return m;
}

export function uniformMatrix(rng: Rng, rows: number, cols: number, low = -1, high = 1, dtype: DType = 'float64'): Matrix {
  const m = zeros(rows, cols, dtype);
  for (let i = 0; i < m.data.length; i++) m.data[i] = low + (high - low) * rng.uniform();
  return m;
}

/** Rows uniform on the sphere of the given radius (normalized Gaussians). */
export function sphereMatrix(rng: Rng, rows: number, cols: number, radius = 1, dtype: DType = 'float64'): Matrix {
  const m = zeros(rows, cols, dtype);
  const v = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    do {
      s = 0;
      for (let j = 0; j < cols; j++) {
        v[j] = rng.gaussian();
        s += v[j] * v[j];
      }
    } while (s === 0);
    const scale = radius / Math.sqrt(s);
    for (let j = 0; j < cols; j++) m.data[i * cols + j] = v[j] * scale;
  }
  return m;
}

/**
 * A Haar-random matrix with orthonormal rows (rows ≤ cols) or orthonormal columns (rows > cols):
 * Householder QR of a Gaussian matrix with the signs of R's diagonal folded into Q (Mezzadri 2007).
 */
export function orthogonalMatrix(rng: Rng, rows: number, cols: number, dtype: DType = 'float64'): Matrix {
  const tall = Math.max(rows, cols);
  const narrow = Math.min(rows, cols);
  // Q is tall × narrow with orthonormal columns, from a Gaussian tall × narrow matrix (column-major work array).
  const a = new Float64Array(tall * narrow);
  for (let j = 0; j < narrow; j++) for (let i = 0; i < tall; i++) a[j * tall + i] = rng.gaussian();
  const q = new Float64Array(tall * narrow);
  const reflectors: Float64Array[] = [];
  const diagonalSigns = new Float64Array(narrow);
  for (let j = 0; j < narrow; j++) {
    const v = new Float64Array(tall);
    let s = 0;
    for (let i = j; i < tall; i++) {
      v[i] = a[j * tall + i];
      s += v[i] * v[i];
    }
    const alpha = v[j] >= 0 ? -Math.sqrt(s) : Math.sqrt(s);
    diagonalSigns[j] = Math.sign(alpha) || 1;
    v[j] -= alpha;
    let vv = 0;
    for (let i = j; i < tall; i++) vv += v[i] * v[i];
    if (vv > 0) for (let i = j; i < tall; i++) v[i] /= Math.sqrt(vv);
    reflectors.push(v);
    for (let c = j; c < narrow; c++) {
      let d = 0;
      for (let i = j; i < tall; i++) d += v[i] * a[c * tall + i];
      for (let i = j; i < tall; i++) a[c * tall + i] -= 2 * d * v[i];
    }
  }
  // Q = H_0 H_1 … H_{narrow-1} applied to the first columns of the identity.
  for (let c = 0; c < narrow; c++) {
    const col = q.subarray(c * tall, (c + 1) * tall);
    col[c] = 1;
    for (let j = narrow - 1; j >= 0; j--) {
      const v = reflectors[j];
      let d = 0;
      for (let i = j; i < tall; i++) d += v[i] * col[i];
      for (let i = j; i < tall; i++) col[i] -= 2 * d * v[i];
    }
    for (let i = 0; i < tall; i++) col[i] *= diagonalSigns[c];
  }
  const out = zeros(rows, cols, dtype);
  for (let c = 0; c < narrow; c++)
    for (let i = 0; i < tall; i++) {
      if (rows >= cols) out.data[i * cols + c] = q[c * tall + i];
      else out.data[c * cols + i] = q[c * tall + i];
    }
  return out;
}
