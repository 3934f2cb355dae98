/** Shared fixtures for the oracle tests: closeness with tolerances, random inputs, naive references. */
import assert from 'node:assert/strict';
import { Rng } from '../src/linalg/rng.js';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/** |a − e| ≤ atol + rtol·|e| elementwise, with the worst offender in the message. */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { rtol = 1e-7, atol = 0 }: Tolerance = {}, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) assert.fail(`${what}: index ${worst}: ${actual[worst]} vs expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
}

export function randomArray(length: number, seed: number, scale = 1): Float64Array {
  const rng = Rng.fromSeed(seed).child('test');
  return Float64Array.from({ length }, () => scale * rng.gaussian());
}

/** c = op(a)·op(b) by the definition, in fp64. */
export function naiveMatmul(transA: boolean, transB: boolean, m: number, n: number, k: number, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
