/**
 * Comparing feature sets (Duzgun, Jelassi & Li 2024; Kornblith et al. 2019): feature span error by
 * ridge regression, residual features, concatenation, linear probes, and CKA.
 */
import type { Backend } from '../linalg/backend.js';
import { type Dense, centerColumns, sumSquares } from './matrixOps.js';
import { MetricError } from './metric.js';

function checkRows(a: Dense, b: Dense, what: string): void {
  if (a.rows !== b.rows) throw new MetricError(`${what}: the feature sets have ${a.rows} and ${b.rows} samples`);
  if (a.rows === 0) throw new MetricError(`${what}: no samples`);
}

/** Θ̂ = argmin ‖AΘ − B‖² + λ‖Θ‖² on the training features. */
function fitMap(backend: Backend, aTrain: Dense, bTrain: Dense, lambda: number): Float64Array {
  checkRows(aTrain, bTrain, 'ridge map');
  const finite = (m: Dense) => m.data.every((v) => Number.isFinite(v));
  if (!finite(aTrain) || !finite(bTrain)) throw new MetricError('ridge map: the features are not finite (a diverged net)');
  try {
    return backend.ridgeSolve(aTrain.data, aTrain.rows, aTrain.cols, bTrain.data, bTrain.cols, lambda);
  } catch (e) {
    // Features so large that A'A + λI is not numerically positive definite.
    throw new MetricError(`ridge map: the solve failed (${(e as Error).message})`);
  }
}

function predict(backend: Backend, a: Dense, theta: Float64Array, outCols: number): Float64Array {
  const out = new Float64Array(a.rows * outCols);
  backend.gemm(false, false, a.rows, outCols, a.cols, 1, a.data, theta, 0, out);
  return out;
}

/** R(A → B) = B − Θ̂ᵀA on the evaluation set: the part of B that A does not span (Def. 2.6). */
export function featureResiduals(backend: Backend, aTrain: Dense, bTrain: Dense, aEval: Dense, bEval: Dense, lambda: number): Dense {
  checkRows(aEval, bEval, 'feature residuals');
  const theta = fitMap(backend, aTrain, bTrain, lambda);
  const fitted = predict(backend, aEval, theta, bTrain.cols);
  return { rows: bEval.rows, cols: bEval.cols, data: Float64Array.from(bEval.data, (v, i) => v - fitted[i]) };
}

/** FSE(A → B) = Σ_test ‖Θ̂ᵀA(x) − B(x)‖² / Σ_test ‖B(x)‖² (Def. 2.2, as PAPERS.md §5.2 writes it). */
export function featureSpanError(backend: Backend, aTrain: Dense, bTrain: Dense, aTest: Dense, bTest: Dense, lambda: number): number {
  const target = sumSquares(bTest.data);
  if (target === 0) throw new MetricError('feature span error: the target features are all zero on the test set');
  return sumSquares(featureResiduals(backend, aTrain, bTrain, aTest, bTest, lambda).data) / target;
}

/** [F₁(x); …; F_U(x)] (Def. 2.4): the features of several networks side by side. */
export function concatFeatures(sets: readonly Dense[]): Dense {
  if (sets.length === 0) throw new MetricError('concatenation of no feature sets');
  const rows = sets[0].rows;
  sets.forEach((s, i) => {
    if (s.rows !== rows) throw new MetricError(`concatenation: set ${i} has ${s.rows} samples, set 0 has ${rows}`);
  });
  const cols = sets.reduce((c, s) => c + s.cols, 0);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let offset = 0;
    for (const s of sets) {
      out.set(s.data.subarray(i * s.cols, (i + 1) * s.cols), i * cols + offset);
      offset += s.cols;
    }
  }
  return { rows, cols, data: out };
}

/** Labels as regression targets: ±1 stays, class c becomes a one-hot row. */
function probeTargets(labels: ArrayLike<number>, classes: number): Dense {
  const n = labels.length;
  if (classes <= 2) return { rows: n, cols: 1, data: Float64Array.from(labels) };
  const data = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) data[i * classes + labels[i]] = 1;
  return { rows: n, cols: classes, data };
}

function withIntercept(f: Dense): Dense {
  const cols = f.cols + 1;
  const data = new Float64Array(f.rows * cols);
  for (let i = 0; i < f.rows; i++) {
    data.set(f.data.subarray(i * f.cols, (i + 1) * f.cols), i * cols);
    data[i * cols + f.cols] = 1;
  }
  return { rows: f.rows, cols, data };
}

function accuracy(scores: Float64Array, width: number, labels: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    if (width === 1) {
      if (scores[i] * labels[i] > 0) right++;
    } else {
      let best = 0;
      for (let c = 1; c < width; c++) if (scores[i * width + c] > scores[i * width + best]) best = c;
      if (best === labels[i]) right++;
    }
  }
  return right / labels.length;
}

/**
 * Test accuracy of a linear probe on frozen features (Def. 2.5): ridge regression onto ±1 or
 * one-hot labels with an intercept, classes = 2 for ±1 labels.
 */
export function ridgeProbeAccuracy(backend: Backend, train: Dense, trainLabels: ArrayLike<number>, test: Dense, testLabels: ArrayLike<number>, classes: number, lambda: number): number {
  const targets = probeTargets(trainLabels, classes);
  const theta = fitMap(backend, withIntercept(train), targets, lambda);
  return accuracy(predict(backend, withIntercept(test), theta, targets.cols), targets.cols, testLabels);
}

/**
 * Test accuracy of a logistic (softmax for classes > 2) probe with an intercept and ridge penalty λ,
 * fitted by gradient descent with step 1/L (L bounds the loss's curvature), for `steps` steps.
 */
export function logisticProbeAccuracy(backend: Backend, train: Dense, trainLabels: ArrayLike<number>, test: Dense, testLabels: ArrayLike<number>, classes: number, lambda: number, steps = 500): number {
  const x = withIntercept(train);
  const width = classes <= 2 ? 1 : classes;
  const n = x.rows;
  const theta = new Float64Array(x.cols * width);
  const scores = new Float64Array(n * width);
  const residual = new Float64Array(n * width);
  const grad = new Float64Array(x.cols * width);
  const lipschitz = sumSquares(x.data) / n / (width === 1 ? 4 : 2) + lambda;
  const step = 1 / Math.max(lipschitz, 1e-12);
  for (let t = 0; t < steps; t++) {
    backend.gemm(false, false, n, width, x.cols, 1, x.data, theta, 0, scores);
    for (let i = 0; i < n; i++) {
      if (width === 1) {
        const y = trainLabels[i];
        residual[i] = -y / (1 + Math.exp(y * scores[i])) / n;
      } else {
        let max = -Infinity;
        for (let c = 0; c < width; c++) max = Math.max(max, scores[i * width + c]);
        let sum = 0;
        for (let c = 0; c < width; c++) sum += Math.exp(scores[i * width + c] - max);
        for (let c = 0; c < width; c++) residual[i * width + c] = (Math.exp(scores[i * width + c] - max) / sum - (c === trainLabels[i] ? 1 : 0)) / n;
      }
    }
    backend.gemm(true, false, x.cols, width, n, 1, x.data, residual, 0, grad);
    for (let i = 0; i < theta.length; i++) theta[i] -= step * (grad[i] + lambda * theta[i]);
  }
  return accuracy(predict(backend, withIntercept(test), theta, width), width, testLabels);
}

export interface CkaOptions {
  readonly kernel: 'linear' | 'rbf';
  /** RBF bandwidth as a multiple of the median pairwise distance (Kornblith et al. 2019). */
  readonly bandwidth?: number;
  /** The unbiased HSIC estimator of Song et al. 2012 (Nguyen et al. 2021's debiased CKA). */
  readonly debiased?: boolean;
}

function gramOf(backend: Backend, f: Dense, options: CkaOptions): Float64Array {
  const n = f.rows;
  const centered = centerColumns(f);
  const linear = new Float64Array(n * n);
  backend.gram(centered.data, n, f.cols, linear);
  if (options.kernel === 'linear') return linear;
  // Squared distances from the (centered) Gram matrix; the kernel uses the median distance.
  const d2 = new Float64Array(n * n);
  const distances: number[] = [];
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const v = Math.max(0, linear[i * n + i] + linear[j * n + j] - 2 * linear[i * n + j]);
      d2[i * n + j] = v;
      if (i < j) distances.push(Math.sqrt(v));
    }
  distances.sort((a, b) => a - b);
  const median = distances.length ? distances[Math.floor(distances.length / 2)] : 0;
  if (!(median > 0)) throw new MetricError('RBF CKA: the median pairwise distance is zero (the features are constant)');
  const sigma = (options.bandwidth ?? 1) * median;
  return Float64Array.from(d2, (v) => Math.exp(-v / (2 * sigma * sigma)));
}

/** HSIC of two n × n kernels: biased tr(KHLH)/(n−1)², or the unbiased estimator (needs n ≥ 4). */
function hsic(k: Float64Array, l: Float64Array, n: number, debiased: boolean): number {
  if (!debiased) {
    const rowK = new Float64Array(n);
    const rowL = new Float64Array(n);
    let totalK = 0;
    let totalL = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        rowK[i] += k[i * n + j];
        rowL[i] += l[i * n + j];
      }
    for (let i = 0; i < n; i++) {
      totalK += rowK[i];
      totalL += rowL[i];
    }
    // tr(KHLH) = Σ K∘L − (2/n) Σ_i rowK_i rowL_i + (ΣK)(ΣL)/n².
    let kl = 0;
    for (let i = 0; i < n * n; i++) kl += k[i] * l[i];
    let cross = 0;
    for (let i = 0; i < n; i++) cross += rowK[i] * rowL[i];
    return (kl - (2 / n) * cross + (totalK * totalL) / (n * n)) / ((n - 1) * (n - 1));
  }
  if (n < 4) throw new MetricError(`debiased CKA needs at least 4 samples, got ${n}`);
  const kt = Float64Array.from(k, (v, idx) => (Math.floor(idx / n) === idx % n ? 0 : v));
  const lt = Float64Array.from(l, (v, idx) => (Math.floor(idx / n) === idx % n ? 0 : v));
  let trace = 0;
  for (let i = 0; i < n * n; i++) trace += kt[i] * lt[i];
  const rowK = new Float64Array(n);
  const rowL = new Float64Array(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      rowK[i] += kt[i * n + j];
      rowL[i] += lt[i * n + j];
    }
  let sumK = 0;
  let sumL = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    sumK += rowK[i];
    sumL += rowL[i];
    cross += rowK[i] * rowL[i];
  }
  return (trace + (sumK * sumL) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * cross) / (n * (n - 3));
}

/** CKA(X, Y) = HSIC(K, L) / √(HSIC(K, K) HSIC(L, L)) (Kornblith et al. 2019). */
export function cka(backend: Backend, x: Dense, y: Dense, options: CkaOptions = { kernel: 'linear' }): number {
  checkRows(x, y, 'CKA');
  const n = x.rows;
  const k = gramOf(backend, x, options);
  const l = gramOf(backend, y, options);
  const debiased = options.debiased ?? false;
  const kk = hsic(k, k, n, debiased);
  const ll = hsic(l, l, n, debiased);
  if (!(kk > 0)) throw new MetricError('CKA: the first feature set has no variance (zero or constant features)');
  if (!(ll > 0)) throw new MetricError('CKA: the second feature set has no variance (zero or constant features)');
  return hsic(k, l, n, debiased) / Math.sqrt(kk * ll);
}
