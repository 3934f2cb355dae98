/** Dense row-major matrices over typed arrays: the one data shape every layer shares. */

export type FloatArray = Float64Array | Float32Array;
export type DType = 'float64' | 'float32';

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: FloatArray;
}

/** A reused fp64 workspace: asked for `size` entries, it returns one of at least that many, grown as needed. */
export function reusableBuffer(): (size: number) => Float64Array {
  let buffer = new Float64Array(0);
  return (size) => {
    if (buffer.length < size) buffer = new Float64Array(size);
    return buffer;
  };
}

export function allocate(length: number, dtype: DType = 'float64'): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function dtypeOf(array: FloatArray): DType {
  return array instanceof Float32Array ? 'float32' : 'float64';
}

export function zeros(rows: number, cols: number, dtype: DType = 'float64'): Matrix {
  return { rows, cols, data: allocate(rows * cols, dtype) };
}

export function fromRows(rows: readonly (readonly number[])[], dtype: DType = 'float64'): Matrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0].length;
  const out = zeros(r, c, dtype);
  for (let i = 0; i < r; i++) {
    if (rows[i].length !== c) throw new Error(`fromRows: row ${i} has ${rows[i].length} entries, expected ${c}`);
    out.data.set(rows[i], i * c);
  }
  return out;
}

export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

export function get(m: Matrix, i: number, j: number): number {
  return m.data[i * m.cols + j];
}

export function row(m: Matrix, i: number): FloatArray {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

export function transpose(m: Matrix): Matrix {
  const out = zeros(m.cols, m.rows, dtypeOf(m.data));
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[j * m.rows + i] = m.data[i * m.cols + j];
  return out;
}

export function cloneMatrix(m: Matrix): Matrix {
  return { rows: m.rows, cols: m.cols, data: m.data.slice() };
}

/** Rows selected by index, in the given order. */
export function selectRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = zeros(indices.length, m.cols, dtypeOf(m.data));
  for (let r = 0; r < indices.length; r++) out.data.set(row(m, indices[r]), r * m.cols);
  return out;
}

export function convert(m: Matrix, dtype: DType): Matrix {
  if (dtypeOf(m.data) === dtype) return m;
  const out = zeros(m.rows, m.cols, dtype);
  out.data.set(m.data);
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, length = a.length): number {
  let s = 0;
  for (let i = 0; i < length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

export function frobeniusNorm(m: Matrix): number {
  return norm(m.data);
}

/** The memory operations of a device whose arrays are host memory (the ts and native devices). */
export const HOST_MEMORY = {
  allocate: (length: number, dtype: DType): FloatArray => allocate(length, dtype),
  read: (array: FloatArray): FloatArray => array,
  readAsync: (array: FloatArray): Promise<FloatArray> => Promise.resolve(array),
} as const;
