/** Small dense helpers the metrics share: centering, norms, spectra through the backend. */
import type { Backend } from '../linalg/backend.js';
import type { Matrix } from '../linalg/matrix.js';

export type Dense = Matrix & { data: Float64Array };

export function dense(m: Matrix): Dense {
  return m.data instanceof Float64Array ? (m as Dense) : { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data) };
}

/** Rows [from, to) as an fp64 copy. */
export function rowRange(m: Matrix, from: number, to: number): Dense {
  return { rows: to - from, cols: m.cols, data: Float64Array.from(m.data.subarray(from * m.cols, to * m.cols)) };
}

export function firstRows(m: Matrix, count: number): Dense {
  return rowRange(m, 0, Math.min(count, m.rows));
}

/** Singular values (descending) from the eigenvalues of the smaller Gram matrix. */
export function singularValuesViaGram(backend: Backend, m: Dense): Float64Array {
  const wide = m.rows <= m.cols;
  const size = wide ? m.rows : m.cols;
  const gram = new Float64Array(size * size);
  if (wide) backend.gram(m.data, m.rows, m.cols, gram);
  else backend.gemm(true, false, size, size, m.rows, 1, m.data, m.data, 0, gram);
  const values = backend.symmetricEigenvalues(gram, size);
  return Float64Array.from(values, (v) => Math.sqrt(Math.max(v, 0))).reverse();
}

export function sumSquares(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

/** Each column's mean over the rows. */
export function columnMeans(m: Dense): Float64Array {
  const means = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) means[j] += m.data[i * m.cols + j];
  return means.map((v) => v / m.rows);
}

/** A copy with `row` subtracted from every row. */
export function subtractRow(m: Dense, row: Float64Array): Dense {
  return { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data, (v, i) => v - row[i % m.cols]) };
}

/** Column-centered copy (each feature minus its mean over rows). */
export function centerColumns(m: Dense): Dense {
  return subtractRow(m, columnMeans(m));
}
