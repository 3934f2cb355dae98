/**
 * A device: the generic operations every backend implements on plain typed arrays (row-major, no
 * copies), so a native addon can take the same buffers. It knows nothing of models or training: a
 * model family registers its own fused kernels per device (src/models/mlp/kernels.ts) and falls back
 * to these operations where a device has none.
 */
import type { DType, FloatArray } from './matrix.js';

export interface SymmetricEigen {
  /** Ascending. */
  readonly values: Float64Array;
  /** n × n row-major; column j is the eigenvector of values[j]. */
  readonly vectors: Float64Array;
}

export interface Backend {
  readonly name: string;
  /**
   * Memory: an array of the device's for `length` values, zeroed, and its values as host memory, at
   * once or when the device has them (a device whose memory lives elsewhere, a GPU, answers the
   * asynchronous read without blocking). On the CPU devices an array is host memory already.
   */
  allocate(length: number, dtype: DType): FloatArray;
  read(array: FloatArray): FloatArray;
  readAsync(array: FloatArray): Promise<FloatArray>;
  /** c = alpha·op(a)·op(b) + beta·c with op(a) m × k and op(b) k × n, all row-major. */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void;
  /** out (rows × rows) = a·aᵀ for a of rows × cols. */
  gram(a: FloatArray, rows: number, cols: number, out: FloatArray): void;
  symmetricEigen(a: FloatArray, n: number): SymmetricEigen;
  /** The eigenvalues alone, ascending (cheaper where the vectors are not needed). */
  symmetricEigenvalues(a: FloatArray, n: number): Float64Array;
  /** All min(rows, cols) singular values, descending. */
  singularValues(a: FloatArray, rows: number, cols: number): Float64Array;
  /** Lower Cholesky factor of a symmetric positive definite n × n matrix; throws if it is not. */
  cholesky(a: FloatArray, n: number): Float64Array;
  /** argmin_W ‖xW − y‖² + lambda‖W‖² for x n × p, y n × q; returns W (p × q). */
  ridgeSolve(x: FloatArray, n: number, p: number, y: FloatArray, q: number, lambda: number): Float64Array;
  /** Threads a family's many-steps training kernel may use for an ensemble's members. */
  readonly threads?: number;
  /** Threads of the BLAS underneath, where there is one (process-wide). */
  setThreads?(threads: number): void;
  /** The device's libraries: its BLAS, BLAS threads, and what runs float32 convolutions. */
  describe?(): { blas: string; threads: number; convolutions: string };
}
