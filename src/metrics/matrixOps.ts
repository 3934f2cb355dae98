/** Small dense helpers the metrics share: centering, norms, spectra through the backend. */
import type { Backend } from '../linalg/backend.js';
import type { Matrix } from '../linalg/matrix.js';

export type Dense = Matrix & { data: Float64Array };

export function dense(m: Matrix): Dense {
  return m.data instanceof Float64Array ? (m as Dense) : { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) };
}

export function firstRows(m: Matrix, count: number): Dense {
  const rows = Math.min(count, m.rows);
  return { rows, cols: m.cols, data: Float64Array.from(m.data.subarray(0, rows * m.cols)) };
}

/** Singular values (descending) from the eigenvalues of the smaller Gram matrix. */
export function singularValuesViaGram(backend: Backend, m: Dense): Float64Array {
  const wide = m.rows <= m.cols;
  const size = wide ? m.rows : m.cols;
  const gram = new Float64Array(size * size);
  if (wide) backend.gram(m.data, m.rows, m.cols, gram);
  else backend.gemm(true, false, size, size, m.rows, 1, m.data, m.data, 0, gram);
  const { values } = backend.symmetricEigen(gram, size);
  return Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0))).reverse();
}

export function sumSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/** Column-centered copy (each feature minus its mean over rows). */
export function centerColumns(m: Dense): Dense {
  const out = Float64Array.from(m.data);
  for (let j = 0; j < m.cols; j++) {
    let mean = 0;
    for (let i = 0; i < m.rows; i++) mean += out[i * m.cols + j];
    mean /= m.rows;
    for (let i = 0; i < m.rows; i++) out[i * m.cols + j] -= mean;
  }
  return { rows: m.rows, cols: m.cols, data: out };
}
