/** Slow, obvious fp64 twins of the metrics: explicit loops, a Jacobi eigensolver, Gauss–Jordan solves. */
import type { Dense } from '../../src/metrics/matrixOps.js';

export function matmul(a: Dense, b: Dense): Dense {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < b.cols; j++) for (let k = 0; k < a.cols; k++) out[i * b.cols + j] += a.data[i * a.cols + k] * b.data[k * b.cols + j];
  return { rows: a.rows, cols: b.cols, data: out };
}

export function transposed(a: Dense): Dense {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j];
  return { rows: a.cols, cols: a.rows, data: out };
}

/** Cyclic Jacobi rotations until the off-diagonal vanishes: eigenvalues (descending) and vectors (columns). */
export function jacobiEigen(symmetric: Dense): { values: number[]; vectors: Dense } {
  const n = symmetric.rows;
  const a = Float64Array.from(symmetric.data);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p * n + q]) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let r = 0; r < n; r++) vectors[r * n + dst] = v[r * n + src];
  });
  return { values: order.map((i) => a[i * n + i]), vectors: { rows: n, cols: n, data: vectors } };
}

export function singularValues(m: Dense): number[] {
  return jacobiEigen(matmul(transposed(m), m)).values.map((v) => Math.sqrt(Math.max(v, 0)));
}

/** Solves A X = B by Gauss–Jordan elimination with partial pivoting. */
export function solve(a: Dense, b: Dense): Dense {
  const n = a.rows;
  const m = Float64Array.from(a.data);
  const x = Float64Array.from(b.data);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k], m[col * n + k]];
    for (let k = 0; k < b.cols; k++) [x[col * b.cols + k], x[pivot * b.cols + k]] = [x[pivot * b.cols + k], x[col * b.cols + k]];
    const d = m[col * n + col];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col] / d;
      for (let k = 0; k < n; k++) m[r * n + k] -= f * m[col * n + k];
      for (let k = 0; k < b.cols; k++) x[r * b.cols + k] -= f * x[col * b.cols + k];
    }
  }
  for (let r = 0; r < n; r++) for (let k = 0; k < b.cols; k++) x[r * b.cols + k] /= m[r * n + r];
  return { rows: n, cols: b.cols, data: x };
}

/** Ridge by the primal normal equations, always (AᵀA + λI) Θ = AᵀB. */
export function ridge(a: Dense, b: Dense, lambda: number): Dense {
  const ata = matmul(transposed(a), a);
  for (let i = 0; i < a.cols; i++) ata.data[i * a.cols + i] += lambda;
  return solve(ata, matmul(transposed(a), b));
}

function meansOf(m: Dense): number[] {
  return Array.from({ length: m.cols }, (_, j) => {
    let s = 0;
    for (let i = 0; i < m.rows; i++) s += m.data[i * m.cols + j];
    return s / m.rows;
  });
}

function shifted(m: Dense, by: number[]): Dense {
  return { rows: m.rows, cols: m.cols, data: Float64Array.from(m.data, (v, i) => v - by[i % m.cols]) };
}

/**
 * FSE by the primal normal equations with the penalty λ·tr(ÃᵀÃ)/p; centered: A and B minus their
 * fitting-row means, the denominator Σ‖B − b̄‖².
 */
export function featureSpanError(aTrain: Dense, bTrain: Dense, aTest: Dense, bTest: Dense, lambda: number, centered = false): number {
  const aMean = centered ? meansOf(aTrain) : new Array<number>(aTrain.cols).fill(0);
  const bMean = centered ? meansOf(bTrain) : new Array<number>(bTrain.cols).fill(0);
  const a = shifted(aTrain, aMean);
  let trace = 0;
  for (let i = 0; i < a.data.length; i++) trace += a.data[i] * a.data[i];
  const fitted = matmul(shifted(aTest, aMean), ridge(a, shifted(bTrain, bMean), (lambda * trace) / a.cols));
  const target = shifted(bTest, bMean);
  let num = 0;
  let den = 0;
  for (let i = 0; i < target.data.length; i++) {
    num += (fitted.data[i] - target.data[i]) ** 2;
    den += target.data[i] ** 2;
  }
  return num / den;
}

/** HSIC with the explicit centering matrix H = I − 11ᵀ/n: tr(K H L H)/(n−1)². */
function hsicBiased(k: Dense, l: Dense): number {
  const n = k.rows;
  const h: Dense = { rows: n, cols: n, data: Float64Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? 1 : 0) - 1 / n) };
  const product = matmul(matmul(matmul(k, h), l), h);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += product.data[i * n + i];
  return trace / ((n - 1) * (n - 1));
}

/** Song et al. 2012's unbiased HSIC, term by term over index tuples. */
function hsicUnbiased(k: Dense, l: Dense): number {
  const n = k.rows;
  const kt = (i: number, j: number) => (i === j ? 0 : k.data[i * n + j]);
  const lt = (i: number, j: number) => (i === j ? 0 : l.data[i * n + j]);
  let t1 = 0;
  let sk = 0;
  let sl = 0;
  let t3 = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      t1 += kt(i, j) * lt(j, i);
      sk += kt(i, j);
      sl += lt(i, j);
      for (let q = 0; q < n; q++) t3 += kt(i, j) * lt(j, q);
    }
  return (t1 + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * t3) / (n * (n - 3));
}

function linearGram(x: Dense): Dense {
  return matmul(x, transposed(x));
}

export function cka(x: Dense, y: Dense, debiased = false): number {
  // Linear kernels of column-centered features.
  const center = (m: Dense): Dense => {
    const out = Float64Array.from(m.data);
    for (let j = 0; j < m.cols; j++) {
      let mean = 0;
      for (let i = 0; i < m.rows; i++) mean += m.data[i * m.cols + j] / m.rows;
      for (let i = 0; i < m.rows; i++) out[i * m.cols + j] -= mean;
    }
    return { rows: m.rows, cols: m.cols, data: out };
  };
  const k = linearGram(center(x));
  const l = linearGram(center(y));
  const f = debiased ? hsicUnbiased : hsicBiased;
  return f(k, l) / Math.sqrt(f(k, k) * f(l, l));
}

/** Mean over rows h of ‖W h‖ / (‖W‖₂ ‖h‖), the spectral norm by singular values of WᵀW. */
export function layerAlignment(w: Dense, inputs: Dense): number {
  const top = singularValues(w)[0];
  let s = 0;
  for (let i = 0; i < inputs.rows; i++) {
    let hh = 0;
    let wh = 0;
    for (let c = 0; c < inputs.cols; c++) hh += inputs.data[i * inputs.cols + c] ** 2;
    for (let r = 0; r < w.rows; r++) {
      let d = 0;
      for (let c = 0; c < w.cols; c++) d += w.data[r * w.cols + c] * inputs.data[i * inputs.cols + c];
      wh += d * d;
    }
    s += Math.sqrt(wh) / (top * Math.sqrt(hh));
  }
  return s / inputs.rows;
}
