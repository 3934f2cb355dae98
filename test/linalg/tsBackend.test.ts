import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { applyActivation } from '../../src/linalg/elementwise.js';
import { expectAllClose, naiveMatmul, randomArray } from '../helpers.js';

const backend = new TsBackend();

function symmetricRandom(n: number, seed: number): Float64Array {
  const a = randomArray(n * n, seed);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = a[i * n + j] + a[j * n + i];
  return s;
}

describe('ts backend gemm', () => {
  for (const transA of [false, true])
    for (const transB of [false, true])
      for (const [m, n, k] of [
        [1, 1, 1],
        [3, 5, 7],
        [8, 2, 1],
        [17, 13, 9],
        // The skinny paths: few columns in b (k ≤ 8) or in c (n ≤ 8) with long other sides.
        [40, 3, 25],
        [6, 30, 2],
      ])
        it(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}×${n}×${k} with alpha and beta`, () => {
          const a = randomArray(m * k, 1 + m);
          const b = randomArray(k * n, 2 + n);
          const c0 = randomArray(m * n, 3 + k);
          const c = c0.slice();
          backend.gemm(transA, transB, m, n, k, 0.7, a, b, -1.3, c);
          const ab = naiveMatmul(transA, transB, m, n, k, a, b);
          expectAllClose(c, Float64Array.from(ab, (v, i) => 0.7 * v - 1.3 * c0[i]), { rtol: 1e-12, atol: 1e-12 });
        });

  it('works in fp32', () => {
    const a = Float32Array.from(randomArray(6 * 4, 9));
    const b = Float32Array.from(randomArray(4 * 5, 10));
    const c = new Float32Array(30);
    backend.gemm(false, false, 6, 5, 4, 1, a, b, 0, c);
    expectAllClose(c, naiveMatmul(false, false, 6, 5, 4, a, b), { rtol: 1e-5, atol: 1e-5 });
  });

  it('ignores NaN in c when beta is 0', () => {
    const c = new Float64Array([NaN, NaN]);
    backend.gemm(false, false, 1, 2, 1, 1, new Float64Array([2]), new Float64Array([3, 4]), 0, c);
    assert.deepEqual([...c], [6, 8]);
  });

  it('gram equals a·aᵀ', () => {
    const a = randomArray(7 * 4, 4);
    const g = new Float64Array(49);
    backend.gram(a, 7, 4, g);
    expectAllClose(g, naiveMatmul(false, true, 7, 7, 4, a, a), { rtol: 1e-12, atol: 1e-12 });
  });
});

describe('ts backend decompositions', () => {
  it('symmetricEigen of a known matrix', () => {
    const { values, vectors } = backend.symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
    expectAllClose(values, [1, 3], { atol: 1e-14 });
    // Eigenvector of 3 is ±(1, 1)/√2.
    assert.ok(Math.abs(Math.abs(vectors[1]) - Math.SQRT1_2) < 1e-12 && Math.abs(vectors[1] - vectors[3]) < 1e-12);
  });

  for (const n of [1, 5, 30])
    it(`symmetricEigen reconstructs a random ${n}×${n} matrix with orthonormal vectors`, () => {
      const a = symmetricRandom(n, n);
      const { values, vectors } = backend.symmetricEigen(a, n);
      for (let i = 1; i < n; i++) assert.ok(values[i] >= values[i - 1]);
      const scaled = Float64Array.from(vectors, (v, idx) => v * values[idx % n]);
      expectAllClose(naiveMatmul(false, true, n, n, n, scaled, vectors), a, { atol: 1e-10 }, 'V diag(λ) Vᵀ');
      const identity = Float64Array.from({ length: n * n }, (_, idx) => (idx % (n + 1) === 0 ? 1 : 0));
      expectAllClose(naiveMatmul(true, false, n, n, n, vectors, vectors), identity, { atol: 1e-12 }, 'VᵀV');
    });

  it('singularValues of a known matrix', () => {
    // [[3, 0], [4, 5]] has singular values √45 and √5.
    expectAllClose(backend.singularValues(new Float64Array([3, 0, 4, 5]), 2, 2), [Math.sqrt(45), Math.sqrt(5)], { rtol: 1e-13 });
  });

  for (const [rows, cols] of [
    [6, 4],
    [4, 9],
    [1, 5],
  ])
    it(`singularValues of a random ${rows}×${cols} matrix match the eigenvalues of the Gram matrix`, () => {
      const a = randomArray(rows * cols, rows + 7 * cols);
      const s = backend.singularValues(a, rows, cols);
      assert.equal(s.length, Math.min(rows, cols));
      const small = Math.min(rows, cols);
      const g = rows <= cols ? naiveMatmul(false, true, rows, rows, cols, a, a) : naiveMatmul(true, false, cols, cols, rows, a, a);
      const eig = backend.symmetricEigen(g, small).values;
      expectAllClose(Float64Array.from(s, (v) => v * v), Float64Array.from(eig).reverse(), { rtol: 1e-10, atol: 1e-10 });
    });

  it('cholesky factors a positive definite matrix and rejects an indefinite one', () => {
    const n = 6;
    const b = randomArray(n * n, 12);
    const a = naiveMatmul(false, true, n, n, n, b, b);
    for (let i = 0; i < n; i++) a[i * n + i] += 0.1;
    const l = backend.cholesky(a, n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
    expectAllClose(naiveMatmul(false, true, n, n, n, l, l), a, { rtol: 1e-12, atol: 1e-12 });
    assert.throws(() => backend.cholesky(new Float64Array([1, 2, 2, 1]), 2), /positive definite/);
  });

  for (const [n, p] of [
    [20, 5],
    [5, 20],
  ])
    it(`ridgeSolve (${n} samples, ${p} features) satisfies the normal equations`, () => {
      const q = 3;
      const lambda = 0.3;
      const x = randomArray(n * p, n + p);
      const y = randomArray(n * q, 99);
      const w = backend.ridgeSolve(x, n, p, y, q, lambda);
      // (xᵀx + λI) w = xᵀ y
      const lhs = naiveMatmul(true, false, p, q, n, x, naiveMatmul(false, false, n, q, p, x, w));
      for (let i = 0; i < p * q; i++) lhs[i] += lambda * w[i];
      expectAllClose(lhs, naiveMatmul(true, false, p, q, n, x, y), { rtol: 1e-9, atol: 1e-9 });
    });

  it('ridgeSolve with lambda 0 is least squares and recovers an exact linear map', () => {
    const n = 15;
    const p = 4;
    const x = randomArray(n * p, 3);
    const wTrue = randomArray(p * 2, 4);
    const y = naiveMatmul(false, false, n, 2, p, x, wTrue);
    expectAllClose(backend.ridgeSolve(x, n, p, y, 2, 0), wTrue, { rtol: 1e-9, atol: 1e-9 });
    assert.throws(() => backend.ridgeSolve(x, n, p, y, 2, -1), /lambda/);
  });
});

describe('activations', () => {
  it('the exact GeLU z·Φ(z) and its derivative at known points, and its derivative against finite differences', () => {
    const pre = Float64Array.of(-3, -1, 0, 0.5, 1, 4);
    const value = new Float64Array(6);
    const derivative = new Float64Array(6);
    applyActivation('gelu', 0, pre, value, derivative, 6);
    // Φ(−1) = 0.15865525393145707, Φ(1) = 0.8413447460685429, Φ(0.5) = 0.6914624612740131 (normal CDF tables).
    expectAllClose(value.subarray(1, 5), Float64Array.of(-0.15865525393145707, 0, 0.5 * 0.6914624612740131, 0.8413447460685429), { rtol: 1e-14, atol: 1e-16 });
    assert.equal(derivative[2], 0.5);
    const h = 1e-6;
    const plus = new Float64Array(6);
    const minus = new Float64Array(6);
    applyActivation('gelu', 0, pre.map((z) => z + h), plus, new Float64Array(6), 6);
    applyActivation('gelu', 0, pre.map((z) => z - h), minus, new Float64Array(6), 6);
    expectAllClose(derivative, plus.map((p, i) => (p - minus[i]) / (2 * h)), { rtol: 1e-8, atol: 1e-9 });
  });
});
