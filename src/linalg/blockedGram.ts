/**
 * The Gram matrix A Aᵀ of a tall matrix that does not fit in memory whole, from row blocks made on
 * demand (a Jacobian's rows come from backward passes): the diagonal blocks by `gram`, the ones below
 * by `gemm`, each block made again for every block above it, so at most two blocks are held at once.
 */
import type { Backend } from './backend.js';

export interface RowBlocks {
  /** Rows of A in all. */
  readonly rows: number;
  readonly cols: number;
  /** Rows per block (the last block may be shorter). */
  readonly blockRows: number;
  /** Rows start … end − 1 of A, row-major. */
  block(start: number, end: number): Float64Array;
}

export function blockedGram(backend: Backend, a: RowBlocks): Float64Array {
  const { rows, cols, blockRows } = a;
  const gram = new Float64Array(rows * rows);
  const starts = Array.from({ length: Math.ceil(rows / blockRows) }, (_, b) => b * blockRows);
  const endOf = (start: number) => Math.min(rows, start + blockRows);
  for (const i of starts) {
    const bi = a.block(i, endOf(i));
    const ni = endOf(i) - i;
    const diagonal = new Float64Array(ni * ni);
    backend.gram(bi, ni, cols, diagonal);
    for (let r = 0; r < ni; r++) gram.set(diagonal.subarray(r * ni, (r + 1) * ni), (i + r) * rows + i);
    for (const j of starts) {
      if (j >= i) break;
      const nj = endOf(j) - j;
      const product = new Float64Array(ni * nj);
      backend.gemm(false, true, ni, nj, cols, 1, bi, a.block(j, endOf(j)), 0, product);
      for (let r = 0; r < ni; r++)
        for (let c = 0; c < nj; c++) {
          gram[(i + r) * rows + j + c] = product[r * nj + c];
          gram[(j + c) * rows + i + r] = product[r * nj + c];
        }
    }
  }
  return gram;
}
