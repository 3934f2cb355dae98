/**
 * Comparing feature sets (Duzgun, Jelassi & Li 2024; Kornblith et al. 2019): feature span error by
 * ridge regression, residual features, concatenation, linear probes, and CKA.
 */
import type { Backend } from '../linalg/backend.js';
import { type Dense, centerColumns, columnMeans, rowRange, subtractRow, sumSquares } from './matrixOps.js';
import { lossAndGradient } from '../linalg/elementwise.js';
import { MetricError } from './metric.js';

function checkRows(a: Dense, b: Dense, what: string): void {
  if (a.rows !== b.rows) throw new MetricError(`${what}: the feature sets have ${a.rows} and ${b.rows} samples`);
  if (a.rows === 0) throw new MetricError(`${what}: no samples`);
}

/**
 * How a linear map between feature sets is fitted. `centered` (our default for the paper's
 * quantities): an intercept, i.e. A and B centered by their means on the fitting rows. The penalty is
 * relative, λ·tr(ÃᵀÃ)/p (ÃᵀÃ's mean eigenvalue), so one grid suits features of any scale: narrow
 * and wide nets' features differ in size by orders of magnitude.
 */
export interface RidgeOptions {
  readonly lambda: number;
  readonly centered: boolean;
}

/** A fitted ridge map x ↦ (x − ā)Θ̂ + b̄ (ā = b̄ = 0 uncentered). */
export interface RidgeMap {
  readonly lambda: number;
  /** b̄: the intercept, the mean of B on the fitting rows (zeros uncentered). */
  readonly intercept: Float64Array;
  predict(a: Dense): Float64Array;
}

function finite(m: Dense): boolean {
  return m.data.every((v) => Number.isFinite(v));
}

/** Θ̂ = argmin ‖ÃΘ − B̃‖² + λ·(tr(ÃᵀÃ)/p)·‖Θ‖² on the fitting rows (tildes: centered when asked). */
export function fitRidgeMap(backend: Backend, aFit: Dense, bFit: Dense, options: RidgeOptions): RidgeMap {
  checkRows(aFit, bFit, 'ridge map');
  if (!finite(aFit) || !finite(bFit)) throw new MetricError('ridge map: the features are not finite (a diverged net)');
  const aMean = options.centered ? columnMeans(aFit) : new Float64Array(aFit.cols);
  const bMean = options.centered ? columnMeans(bFit) : new Float64Array(bFit.cols);
  const a = options.centered ? subtractRow(aFit, aMean) : aFit;
  const b = options.centered ? subtractRow(bFit, bMean) : bFit;
  const scale = sumSquares(a.data) / a.cols;
  // Features that are constant on the fitting rows (dead units): nothing to regress on.
  const penalty = options.lambda * (scale > 0 ? scale : 1);
  let theta: Float64Array;
  try {
    theta = backend.ridgeSolve(a.data, a.rows, a.cols, b.data, b.cols, penalty);
  } catch (e) {
    // Features so large that ÃᵀÃ + λI is not numerically positive definite.
    throw new MetricError(`ridge map: the solve failed (${(e as Error).message})`);
  }
  return {
    lambda: options.lambda,
    intercept: bMean,
    predict(x: Dense): Float64Array {
      const out = new Float64Array(x.rows * bFit.cols);
      for (let i = 0; i < x.rows; i++) out.set(bMean, i * bFit.cols);
      backend.gemm(false, false, x.rows, bFit.cols, x.cols, 1, options.centered ? subtractRow(x, aMean).data : x.data, theta, 1, out);
      return out;
    },
  };
}

function sumSquaredDifference(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** Σ‖B(x) − b̄‖² over the rows: the denominator of the centered FSE (b̄ = 0 uncentered). */
function targetEnergy(b: Dense, intercept: Float64Array): number {
  let s = 0;
  for (let i = 0; i < b.data.length; i++) s += (b.data[i] - intercept[i % b.cols]) ** 2;
  return s;
}

/** The fitting rows split into the first (1 − fraction) for fitting and the last `fraction` for validation. */
export function validationCut(rows: number, fraction: number): number {
  const held = Math.round(rows * fraction);
  if (held < 1 || rows - held < 2) throw new MetricError(`validation: ${rows} rows cannot give up ${fraction} of them for validation`);
  return rows - held;
}

export const DEFAULT_PENALTY_GRID: readonly number[] = [1e-4, 1e-3, 1e-2, 1e-1, 1];

/**
 * How FSE(A → B) is computed. A single λ is used as given; a grid is searched on a validation split
 * carved from the fitting rows (the last `validationFraction`), the winner refitted on all of them.
 */
export interface SpanOptions {
  readonly lambda: number | readonly number[];
  readonly centered: boolean;
  readonly validationFraction?: number;
}

export interface SpanFit {
  /** FSE on the evaluation rows. */
  readonly error: number;
  /** The λ used (the validated one for a grid). */
  readonly lambda: number;
}

function spanError(map: RidgeMap, a: Dense, b: Dense, centered: boolean): number {
  const target = targetEnergy(b, centered ? map.intercept : new Float64Array(b.cols));
  if (target === 0) throw new MetricError('feature span error: the target features are all zero (or constant) on the evaluation set');
  return sumSquaredDifference(map.predict(a), b.data) / target;
}

/** The grid's value with the least validation loss, tried from the largest down (ties: the larger, more regularized one). */
function bestOnGrid(grid: readonly number[], loss: (value: number) => number): number {
  let best = { value: grid[0], loss: Infinity };
  for (const value of [...grid].sort((x, y) => y - x)) {
    const l = loss(value);
    if (l < best.loss) best = { value, loss: l };
  }
  return best.value;
}

/** The grid's λ with the lowest FSE on the validation rows. */
function validatedSpanLambda(backend: Backend, aFit: Dense, bFit: Dense, grid: readonly number[], centered: boolean, fraction: number): number {
  const cut = validationCut(aFit.rows, fraction);
  const [aIn, bIn, aOut, bOut] = [rowRange(aFit, 0, cut), rowRange(bFit, 0, cut), rowRange(aFit, cut, aFit.rows), rowRange(bFit, cut, bFit.rows)];
  return bestOnGrid(grid, (lambda) => spanError(fitRidgeMap(backend, aIn, bIn, { lambda, centered }), aOut, bOut, centered));
}

/**
 * Feature span error (Def. 2.2), centered: FSE(A → B) = Σ_eval ‖(A(x) − ā)Θ̂ + b̄ − B(x)‖² / Σ_eval ‖B(x) − b̄‖²,
 * Θ̂ the ridge map fitted on the fitting rows, ā, b̄ their means: 0 when A spans B, 1 when A predicts
 * no better than B's mean. Uncentered (PAPERS.md §5.2's reconstruction): ā = b̄ = 0, denominator Σ‖B(x)‖².
 * Centering, the relative penalty and the validated λ are our choices; the paper only says "ridge".
 */
export function featureSpanFit(backend: Backend, aFit: Dense, bFit: Dense, aEval: Dense, bEval: Dense, options: SpanOptions): SpanFit {
  checkRows(aEval, bEval, 'feature span error');
  const grid = typeof options.lambda === 'number' ? [options.lambda] : options.lambda;
  if (grid.length === 0) throw new MetricError('feature span error: an empty λ grid');
  const lambda = grid.length === 1 ? grid[0] : validatedSpanLambda(backend, aFit, bFit, grid, options.centered, options.validationFraction ?? 0.2);
  const map = fitRidgeMap(backend, aFit, bFit, { lambda, centered: options.centered });
  return { error: spanError(map, aEval, bEval, options.centered), lambda };
}

/** FSE(A → B) alone; a number λ is the uncentered variant with that relative penalty. */
export function featureSpanError(backend: Backend, aFit: Dense, bFit: Dense, aEval: Dense, bEval: Dense, options: SpanOptions | number): number {
  return featureSpanFit(backend, aFit, bFit, aEval, bEval, typeof options === 'number' ? { lambda: options, centered: false } : options).error;
}

/**
 * R(A → B)(x) = B(x) − Θ̂ᵀA(x) (Def. 2.6): the part of B that A does not span, the map fitted on
 * the fitting rows and applied to the evaluation rows. Fitted on rows a probe does not train on, the
 * residuals it sees are out of sample (in-sample they would be orthogonal to A by construction).
 */
export function featureResiduals(backend: Backend, aFit: Dense, bFit: Dense, aEval: Dense, bEval: Dense, options: RidgeOptions | number): Dense {
  return residualsOf(fitRidgeMap(backend, aFit, bFit, typeof options === 'number' ? { lambda: options, centered: false } : options), aEval, bEval);
}

/** B − map(A) on evaluation rows, for a map fitted once and applied to several row sets. */
export function residualsOf(map: RidgeMap, aEval: Dense, bEval: Dense): Dense {
  checkRows(aEval, bEval, 'feature residuals');
  const fitted = map.predict(aEval);
  return { rows: bEval.rows, cols: bEval.cols, data: Float64Array.from(bEval.data, (v, i) => v - fitted[i]) };
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

/** A linear classifier on frozen features: its scores on new rows (one column for ±1 labels). */
interface FittedProbe {
  scores(features: Dense): Float64Array;
  readonly width: number;
}

/** Ridge regression onto ±1 or one-hot labels, with an intercept and the relative penalty λ. */
function fitRidgeProbe(backend: Backend, train: Dense, labels: Float64Array, classes: number, lambda: number): FittedProbe {
  const targets = probeTargets(labels, classes);
  const map = fitRidgeMap(backend, train, targets, { lambda, centered: true });
  return { width: targets.cols, scores: (f) => map.predict(f) };
}

/** Column means and standard deviations on the training rows (sd 1 for constant columns). */
function standardizer(train: Dense): (f: Dense) => Dense {
  const means = columnMeans(train);
  const sds = new Float64Array(train.cols);
  for (let i = 0; i < train.rows; i++) for (let j = 0; j < train.cols; j++) sds[j] += (train.data[i * train.cols + j] - means[j]) ** 2;
  for (let j = 0; j < train.cols; j++) sds[j] = sds[j] > 0 ? Math.sqrt(sds[j] / train.rows) : 1;
  return (f) => ({ rows: f.rows, cols: f.cols, data: Float64Array.from(f.data, (v, i) => (v - means[i % f.cols]) / sds[i % f.cols]) });
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

/** Largest eigenvalue of XᵀX/n by power iteration (bounds the logistic loss's curvature). */
function topCurvature(backend: Backend, x: Dense): number {
  let v = new Float64Array(x.cols).fill(1 / Math.sqrt(x.cols));
  const xv = new Float64Array(x.rows);
  let value = 0;
  for (let t = 0; t < 30; t++) {
    backend.gemm(false, false, x.rows, 1, x.cols, 1, x.data, v, 0, xv);
    const next = new Float64Array(x.cols);
    backend.gemm(true, false, x.cols, 1, x.rows, 1 / x.rows, x.data, xv, 0, next);
    value = Math.sqrt(sumSquares(next));
    if (!(value > 0)) return 0;
    v = next.map((u) => u / value);
  }
  return value * 1.05;
}

/** The probe's training loss, the trainer's own: logistic on ±1 labels (one column), softmax cross-entropy on class indices. */
function probeLoss(width: number): 'logistic' | 'crossEntropy' {
  return width === 1 ? 'logistic' : 'crossEntropy';
}

/**
 * Logistic (softmax for classes > 2) regression on standardized features with an intercept and the
 * penalty (λ/2)‖θ‖² on the weights, fitted by Nesterov-accelerated gradient descent with step 1/L.
 */
function fitLogisticProbe(backend: Backend, train: Dense, labels: Float64Array, classes: number, lambda: number, steps: number): FittedProbe {
  const standardize = standardizer(train);
  const x = withIntercept(standardize(train));
  const width = classes <= 2 ? 1 : classes;
  const n = x.rows;
  const theta = new Float64Array(x.cols * width);
  const previous = new Float64Array(theta.length);
  const lookahead = new Float64Array(theta.length);
  const scores = new Float64Array(n * width);
  const residual = new Float64Array(n * width);
  const grad = new Float64Array(theta.length);
  const curvature = topCurvature(backend, x) / (width === 1 ? 4 : 2) + lambda;
  const step = 1 / Math.max(curvature, 1e-12);
  const interceptRow = x.cols - 1;
  for (let t = 0; t < steps; t++) {
    const momentum = t / (t + 3);
    for (let i = 0; i < theta.length; i++) lookahead[i] = theta[i] + momentum * (theta[i] - previous[i]);
    backend.gemm(false, false, n, width, x.cols, 1, x.data, lookahead, 0, scores);
    lossAndGradient(probeLoss(width), scores, labels, n, width, residual);
    backend.gemm(true, false, x.cols, width, n, 1, x.data, residual, 0, grad);
    previous.set(theta);
    for (let i = 0; i < theta.length; i++) {
      const penalized = Math.floor(i / width) === interceptRow ? 0 : lambda * lookahead[i];
      theta[i] = lookahead[i] - step * (grad[i] + penalized);
    }
  }
  return {
    width,
    scores(f: Dense): Float64Array {
      const z = withIntercept(standardize(f));
      const out = new Float64Array(f.rows * width);
      backend.gemm(false, false, f.rows, width, z.cols, 1, z.data, theta, 0, out);
      return out;
    },
  };
}

/** The probe's own validation loss: cross-entropy for the logistic probe, squared error for the ridge one. */
function validationLoss(kind: ProbeKind, probe: FittedProbe, f: Dense, labels: Float64Array, classes: number): number {
  const scores = probe.scores(f);
  if (kind === 'logistic') return lossAndGradient(probeLoss(probe.width), scores, labels, labels.length, probe.width, null);
  return sumSquaredDifference(scores, probeTargets(labels, classes).data);
}

export const PROBE_KINDS = ['logistic', 'ridge'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/**
 * A linear probe (Def. 2.5). `logistic` (the default): cross-entropy on standardized features;
 * `ridge`: least squares onto ±1 / one-hot labels. A penalty grid is searched on the last
 * `validationFraction` of the training rows by the probe's own loss, the winner refitted on all.
 */
export interface ProbeOptions {
  readonly kind: ProbeKind;
  readonly penalty: number | readonly number[];
  readonly validationFraction?: number;
  /** Gradient steps of the logistic probe. */
  readonly steps?: number;
}

export interface ProbeFit {
  /** Test accuracy. */
  readonly accuracy: number;
  /** The penalty used (the validated one for a grid). */
  readonly penalty: number;
}

export function probeFit(backend: Backend, train: Dense, trainLabels: ArrayLike<number>, test: Dense, testLabels: ArrayLike<number>, classes: number, options: ProbeOptions): ProbeFit {
  checkRows(train, { rows: trainLabels.length, cols: 1, data: new Float64Array(0) }, 'linear probe');
  if (!finite(train) || !finite(test)) throw new MetricError('linear probe: the features are not finite (a diverged net)');
  const labels = Float64Array.from(trainLabels);
  const fit = (f: Dense, fitLabels: Float64Array, penalty: number) =>
    options.kind === 'ridge' ? fitRidgeProbe(backend, f, fitLabels, classes, penalty) : fitLogisticProbe(backend, f, fitLabels, classes, penalty, options.steps ?? 500);
  const grid = typeof options.penalty === 'number' ? [options.penalty] : options.penalty;
  if (grid.length === 0) throw new MetricError('linear probe: an empty penalty grid');
  let penalty = grid[0];
  if (grid.length > 1) {
    const cut = validationCut(train.rows, options.validationFraction ?? 0.2);
    const [trainIn, trainOut] = [rowRange(train, 0, cut), rowRange(train, cut, train.rows)];
    penalty = bestOnGrid(grid, (candidate) => validationLoss(options.kind, fit(trainIn, labels.subarray(0, cut), candidate), trainOut, labels.subarray(cut), classes));
  }
  const probe = fit(train, labels, penalty);
  return { accuracy: accuracy(probe.scores(test), probe.width, testLabels), penalty };
}

/** Test accuracy of a ridge probe with a fixed relative penalty λ (classes = 2 for ±1 labels). */
export function ridgeProbeAccuracy(backend: Backend, train: Dense, trainLabels: ArrayLike<number>, test: Dense, testLabels: ArrayLike<number>, classes: number, lambda: number): number {
  return probeFit(backend, train, trainLabels, test, testLabels, classes, { kind: 'ridge', penalty: lambda }).accuracy;
}

/** Test accuracy of a logistic probe with a fixed penalty λ, `steps` accelerated gradient steps. */
export function logisticProbeAccuracy(backend: Backend, train: Dense, trainLabels: ArrayLike<number>, test: Dense, testLabels: ArrayLike<number>, classes: number, lambda: number, steps = 500): number {
  return probeFit(backend, train, trainLabels, test, testLabels, classes, { kind: 'logistic', penalty: lambda, steps }).accuracy;
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
