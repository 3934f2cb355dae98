/**
 * The compute interface every backend implements on plain typed arrays (row-major, no copies), so a
 * native addon can take the same buffers. The model's hot path is one call (`mlpLossGradient`) over
 * the whole ensemble, which a backend may fuse however it likes.
 */
import type { Activation, Loss } from './elementwise.js';
import type { FloatArray } from './matrix.js';

/** K fully connected nets of one shape, as flat parameter arrays (member-major). */
export interface MlpBatch {
  /** Layer widths [d, n_1, …, n_L]; L = widths.length − 1 weight layers. */
  readonly widths: readonly number[];
  readonly ensembleSize: number;
  readonly activation: Activation;
  /** Negative-side slope for leakyRelu. */
  readonly leak: number;
  /** Per weight layer: the effective weight is multiplier × stored weight (parametrization). */
  readonly multipliers: Float64Array;
  /** Layer l: ensembleSize × widths[l+1] × widths[l]. */
  readonly weights: FloatArray[];
  /** Layer l: ensembleSize × widths[l+1], or null for a layer without bias. */
  readonly biases: (FloatArray | null)[];
  /** Per member: the network output is multiplied by it (with the init scales it sets the feature learning strength, models/strength.ts). */
  readonly outputScale: Float64Array;
}

/** Gradients laid out exactly like the parameters of an MlpBatch. */
export interface MlpGradients {
  readonly weights: FloatArray[];
  readonly biases: (FloatArray | null)[];
}

export interface MlpEvaluation {
  readonly inputs: FloatArray;
  readonly n: number;
  /** K × n × widths[L] values subtracted from the outputs (the f − f₀ option), or null. */
  readonly offsets: FloatArray | null;
  /** Members to compute; the others are left untouched. null means all. */
  readonly active: Uint8Array | null;
}

export interface SymmetricEigen {
  /** Ascending. */
  readonly values: Float64Array;
  /** n × n row-major; column j is the eigenvector of values[j]. */
  readonly vectors: Float64Array;
}

export interface Backend {
  readonly name: string;
  /** c = alpha·op(a)·op(b) + beta·c with op(a) m × k and op(b) k × n, all row-major. */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void;
  /** out (rows × rows) = a·aᵀ for a of rows × cols. */
  gram(a: FloatArray, rows: number, cols: number, out: FloatArray): void;
  symmetricEigen(a: FloatArray, n: number): SymmetricEigen;
  /** All min(rows, cols) singular values, descending. */
  singularValues(a: FloatArray, rows: number, cols: number): Float64Array;
  /** Lower Cholesky factor of a symmetric positive definite n × n matrix; throws if it is not. */
  cholesky(a: FloatArray, n: number): Float64Array;
  /** argmin_W ‖xW − y‖² + lambda‖W‖² for x n × p, y n × q; returns W (p × q). */
  ridgeSolve(x: FloatArray, n: number, p: number, y: FloatArray, q: number, lambda: number): Float64Array;
  /** Outputs (K × n × widths[L]) of every active member. */
  mlpForward(batch: MlpBatch, evaluation: MlpEvaluation, outputs: FloatArray): void;
  /**
   * Mean loss of every active member into losses[k] and its gradient into gradients; outputs
   * (K × n × widths[L]) receives the outputs the loss was computed on.
   */
  mlpLossGradient(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients): void;
  /** Threads of the BLAS underneath, where there is one (process-wide). */
  setThreads?(threads: number): void;
  describe?(): { blas: string; threads: number };
}
