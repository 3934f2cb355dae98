/**
 * The reference backend in plain TypeScript: what every other backend is tested against and what
 * runs in the browser. Decompositions go through ml-matrix (in fp64); the hot loops are written here
 * with workspaces reused across calls.
 */
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix as MlMatrix, SingularValueDecomposition } from 'ml-matrix';
import type { Backend, SymmetricEigen } from './backend.js';
import { HOST_MEMORY, reusableBuffer, type FloatArray } from './matrix.js';

/** Below this many columns a loop of length k or n is mostly overhead: the skinny paths reorder it. */
const SKINNY = 8;
/** The skinny paths' transposes. */
const scratch = reusableBuffer();

function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void {
  const size = m * n;
  if (beta === 0) c.fill(0, 0, size);
  else if (beta !== 1) for (let i = 0; i < size; i++) c[i] *= beta;
  if (alpha === 0 || k === 0) return;
  if (!transA && !transB) {
    // a m×k, b k×n: row i of c accumulates rows of b.
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      for (let p = 0; p < k; p++) {
        const s = alpha * a[i * k + p];
        if (s === 0) continue;
        const bp = p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
  } else if (!transA && transB && k <= SKINNY) {
    // a m×k, b n×k with few columns (the first layer on low-dimensional inputs): bᵀ once, then
    // rows of c accumulate its rows, long contiguous inner loops instead of length-k dot products.
    const bt = scratch(k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p];
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      let p = 0;
      // Two rows of bᵀ per pass over c's row: half the loads and stores of c.
      for (; p + 1 < k; p += 2) {
        const s0 = alpha * a[i * k + p];
        const s1 = alpha * a[i * k + p + 1];
        const b0 = p * n;
        const b1 = b0 + n;
        for (let j = 0; j < n; j++) c[ci + j] += s0 * bt[b0 + j] + s1 * bt[b1 + j];
      }
      if (p < k) {
        const s = alpha * a[i * k + p];
        const bp = p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * bt[bp + j];
      }
    }
  } else if (transA && !transB && n <= SKINNY) {
    // a k×m, b k×n with few columns in c (the first layer's gradient): cᵀ accumulated column by
    // column over contiguous rows of a, then added to c.
    const ct = scratch(n * m);
    ct.fill(0, 0, n * m);
    let p = 0;
    for (; p + 1 < k; p += 2) {
      const a0 = p * m;
      const a1 = a0 + m;
      for (let j = 0; j < n; j++) {
        const s0 = alpha * b[p * n + j];
        const s1 = alpha * b[(p + 1) * n + j];
        const cj = j * m;
        for (let i = 0; i < m; i++) ct[cj + i] += s0 * a[a0 + i] + s1 * a[a1 + i];
      }
    }
    if (p < k) {
      const ap = p * m;
      for (let j = 0; j < n; j++) {
        const s = alpha * b[p * n + j];
        const cj = j * m;
        for (let i = 0; i < m; i++) ct[cj + i] += s * a[ap + i];
      }
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * n + j] += ct[j * m + i];
  } else if (!transA && transB) {
    // a m×k, b n×k: contiguous dot products.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
        c[i * n + j] += alpha * s;
      }
    }
  } else if (transA && !transB) {
    // a k×m, b k×n: rank-one updates, row by row.
    for (let p = 0; p < k; p++) {
      const ap = p * m;
      const bp = p * n;
      for (let i = 0; i < m; i++) {
        const s = alpha * a[ap + i];
        if (s === 0) continue;
        const ci = i * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
  } else {
    // a k×m, b n×k.
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
        c[i * n + j] += alpha * s;
      }
  }
}

function toMl(a: FloatArray, rows: number, cols: number): MlMatrix {
  const m = new MlMatrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, a[i * cols + j]);
  return m;
}

function fromMl(m: MlMatrix): Float64Array {
  const out = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) out[i * m.columns + j] = m.get(i, j);
  return out;
}

export class TsBackend implements Backend {
  readonly name = 'ts';
  readonly allocate = HOST_MEMORY.allocate;
  readonly read = HOST_MEMORY.read;
  readonly readAsync = HOST_MEMORY.readAsync;

  gemm = gemm;

  gram(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
    for (let i = 0; i < rows; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        const ai = i * cols;
        const aj = j * cols;
        for (let p = 0; p < cols; p++) s += a[ai + p] * a[aj + p];
        out[i * rows + j] = s;
        out[j * rows + i] = s;
      }
  }

  symmetricEigenvalues(a: FloatArray, n: number): Float64Array {
    return this.symmetricEigen(a, n).values;
  }

  symmetricEigen(a: FloatArray, n: number): SymmetricEigen {
    const evd = new EigenvalueDecomposition(toMl(a, n, n), { assumeSymmetric: true });
    // ml-matrix returns the symmetric case in ascending order already; sort to be sure.
    const raw = evd.realEigenvalues;
    const vectors = fromMl(evd.eigenvectorMatrix);
    const order = raw.map((_, i) => i).sort((i, j) => raw[i] - raw[j]);
    const values = new Float64Array(n);
    const sorted = new Float64Array(n * n);
    order.forEach((src, dst) => {
      values[dst] = raw[src];
      for (let r = 0; r < n; r++) sorted[r * n + dst] = vectors[r * n + src];
    });
    return { values, vectors: sorted };
  }

  singularValues(a: FloatArray, rows: number, cols: number): Float64Array {
    if (rows === 0 || cols === 0) return new Float64Array(0);
    // ml-matrix wants rows ≥ cols; singular values are those of the transpose.
    const m = rows >= cols ? toMl(a, rows, cols) : toMl(a, rows, cols).transpose();
    const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
    return Float64Array.from(svd.diagonal).sort((x, y) => y - x);
  }

  cholesky(a: FloatArray, n: number): Float64Array {
    const decomposition = new CholeskyDecomposition(toMl(a, n, n));
    if (!decomposition.isPositiveDefinite()) throw new Error('cholesky: the matrix is not symmetric positive definite');
    return fromMl(decomposition.lowerTriangularMatrix);
  }

  ridgeSolve(x: FloatArray, n: number, p: number, y: FloatArray, q: number, lambda: number): Float64Array {
    if (!(lambda >= 0)) throw new Error(`ridgeSolve: lambda must be ≥ 0, got ${lambda}`);
    const xs = Float64Array.from(x);
    const ys = Float64Array.from(y);
    if (p <= n) {
      // Primal: (xᵀx + λI) W = xᵀy.
      const g = new Float64Array(p * p);
      gemm(true, false, p, p, n, 1, xs, xs, 0, g);
      for (let i = 0; i < p; i++) g[i * p + i] += lambda;
      const rhs = new Float64Array(p * q);
      gemm(true, false, p, q, n, 1, xs, ys, 0, rhs);
      return choleskySolve(this.cholesky(g, p), p, rhs, q);
    }
    // Dual (fewer samples than features): W = xᵀ (x xᵀ + λI)⁻¹ y.
    const g = new Float64Array(n * n);
    this.gram(xs, n, p, g);
    for (let i = 0; i < n; i++) g[i * n + i] += lambda;
    const alpha = choleskySolve(this.cholesky(g, n), n, ys, q);
    const w = new Float64Array(p * q);
    gemm(true, false, p, q, n, 1, xs, alpha, 0, w);
    return w;
  }

}

/** Solves L Lᵀ X = B for X (n × q) given the lower Cholesky factor L. */
export function choleskySolve(lower: Float64Array, n: number, b: Float64Array, q: number): Float64Array {
  const x = Float64Array.from(b.subarray(0, n * q));
  for (let c = 0; c < q; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * q + c];
      for (let j = 0; j < i; j++) s -= lower[i * n + j] * x[j * q + c];
      x[i * q + c] = s / lower[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * q + c];
      for (let j = i + 1; j < n; j++) s -= lower[j * n + i] * x[j * q + c];
      x[i * q + c] = s / lower[i * n + i];
    }
  }
  return x;
}
