import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/linalg/rng.js';
import { orthogonalMatrix, sphereMatrix } from '../../src/linalg/samplers.js';
import { expectAllClose, naiveMatmul } from '../helpers.js';

function identity(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}

describe('samplers', () => {
  for (const [rows, cols] of [
    [3, 7],
    [7, 3],
    [5, 5],
    [1, 4],
  ]) {
    it(`orthogonalMatrix ${rows}×${cols} has orthonormal ${rows <= cols ? 'rows' : 'columns'}`, () => {
      const q = orthogonalMatrix(Rng.fromSeed(rows * 10 + cols), rows, cols);
      const small = Math.min(rows, cols);
      const product = rows <= cols ? naiveMatmul(false, true, rows, rows, cols, q.data, q.data) : naiveMatmul(true, false, cols, cols, rows, q.data, q.data);
      expectAllClose(product, identity(small), { atol: 1e-12 });
    });
  }

  it('orthogonalMatrix is Haar: the first entry of a random 2×2 rotation has mean 0 and mean square ½', () => {
    let s = 0;
    let ss = 0;
    const rng = Rng.fromSeed(1);
    const trials = 4000;
    for (let t = 0; t < trials; t++) {
      const q00 = orthogonalMatrix(rng, 2, 2).data[0];
      s += q00;
      ss += q00 * q00;
    }
    assert.ok(Math.abs(s / trials) < 0.05);
    assert.ok(Math.abs(ss / trials - 0.5) < 0.03);
  });

  it('sphereMatrix rows have the requested radius', () => {
    const m = sphereMatrix(Rng.fromSeed(2), 50, 6, 3);
    for (let i = 0; i < 50; i++) {
      let s = 0;
      for (let j = 0; j < 6; j++) s += m.data[i * 6 + j] ** 2;
      assert.ok(Math.abs(Math.sqrt(s) - 3) < 1e-12);
    }
  });
});
