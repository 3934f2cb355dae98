/** Every native device operation against the ts reference on fresh random inputs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../src/linalg/index.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import type { Backend } from '../../src/linalg/backend.js';
import { nativeSkip } from '../nativeAvailability.js';
import { expectAllClose, randomArray } from '../helpers.js';

const reference = new TsBackend();
const loaded = createBackend('native');
// CI installs OpenBLAS and builds the addon; there it must load. Elsewhere its absence is reported, not fatal.
const mustLoad = process.env.CI === 'true' || process.env.FEATLAB_BACKEND === 'native';

describe('native backend availability', () => {
  it(mustLoad ? 'loads (CI builds it)' : 'loads, or reports why it cannot', () => {
    if (loaded instanceof Error) {
      assert.equal(mustLoad, false, `native addon failed to load: ${loaded.message}`);
      assert.ok(loaded.message.length > 0);
    } else {
      assert.equal(loaded.name, 'native');
      assert.match(loaded.describe?.().blas ?? '', /OpenBLAS/);
    }
  });
});

describe('native backend against ts', { skip: nativeSkip(loaded) }, () => {
  if (loaded instanceof Error) return;
  const native: Backend = loaded;
  for (const dtype of ['float64', 'float32'] as const) {
    const cast = (a: Float64Array) => (dtype === 'float32' ? Float32Array.from(a) : a);
    const tol = dtype === 'float32' ? { rtol: 1e-4, atol: 1e-4 } : { rtol: 1e-11, atol: 1e-11 };
    for (const transA of [false, true])
      for (const transB of [false, true])
        for (const [m, n, k] of [
          [1, 1, 1],
          [7, 3, 5],
          [33, 17, 65],
          [2, 130, 9],
        ])
          it(`gemm ${dtype} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}×${n}×${k}`, () => {
            const a = cast(randomArray(m * k, m + 3 * k));
            const b = cast(randomArray(k * n, n + 5 * k));
            const c0 = cast(randomArray(m * n, m * n));
            const [c1, c2] = [c0.slice(), c0.slice()];
            reference.gemm(transA, transB, m, n, k, 1.3, a, b, 0.4, c1);
            native.gemm(transA, transB, m, n, k, 1.3, a, b, 0.4, c2);
            expectAllClose(c2, c1, tol);
          });
    it(`gram ${dtype}`, () => {
      const a = cast(randomArray(9 * 13, 4));
      const [g1, g2] = [cast(new Float64Array(81)), cast(new Float64Array(81))];
      reference.gram(a, 9, 13, g1);
      native.gram(a, 9, 13, g2);
      expectAllClose(g2, g1, tol);
    });
  }

  it('symmetricEigen, singularValues, cholesky and ridgeSolve (primal and dual)', () => {
    const n = 11;
    const b = randomArray(n * n, 7);
    const s = Float64Array.from({ length: n * n }, (_, i) => b[i] + b[(i % n) * n + Math.floor(i / n)]);
    const e1 = reference.symmetricEigen(s, n);
    const e2 = native.symmetricEigen(s, n);
    expectAllClose(e2.values, e1.values, { rtol: 1e-10, atol: 1e-12 });
    expectAllClose(native.symmetricEigenvalues(s, n), e1.values, { rtol: 1e-10, atol: 1e-12 });
    // Eigenvectors agree up to sign.
    for (let j = 0; j < n; j++) {
      const sign = Math.sign(e1.vectors[j]) * Math.sign(e2.vectors[j]) || 1;
      expectAllClose(Array.from({ length: n }, (_, r) => sign * e2.vectors[r * n + j]), Array.from({ length: n }, (_, r) => e1.vectors[r * n + j]), { atol: 1e-9 });
    }
    for (const [rows, cols] of [
      [8, 5],
      [5, 12],
      [1, 4],
    ]) {
      const a = randomArray(rows * cols, rows * cols);
      expectAllClose(native.singularValues(a, rows, cols), reference.singularValues(a, rows, cols), { rtol: 1e-10, atol: 1e-12 });
    }
    const spd = Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? n : 0) + 0.1 * s[i]);
    expectAllClose(native.cholesky(spd, n), reference.cholesky(spd, n), { rtol: 1e-10, atol: 1e-12 });
    assert.throws(() => native.cholesky(Float64Array.of(1, 2, 2, 1), 2), /positive definite/);
    for (const [rows, p] of [
      [20, 6],
      [6, 20],
    ]) {
      const x = randomArray(rows * p, 9);
      const y = randomArray(rows * 3, 10);
      expectAllClose(native.ridgeSolve(x, rows, p, y, 3, 0.2), reference.ridgeSolve(x, rows, p, y, 3, 0.2), { rtol: 1e-9, atol: 1e-10 });
    }
  });
});
