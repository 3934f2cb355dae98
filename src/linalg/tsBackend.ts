/**
 * The reference backend in plain TypeScript: what every other backend is tested against and what
 * runs in the browser. Decompositions go through ml-matrix (in fp64); the hot loops are written here
 * with workspaces reused across calls.
 */
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix as MlMatrix, SingularValueDecomposition } from 'ml-matrix';
import type { Backend, MlpBatch, MlpEvaluation, MlpGradients, SymmetricEigen } from './backend.js';
import { applyActivation, lossAndGradient, type Loss } from './elementwise.js';
import { allocate, dtypeOf, type DType, type FloatArray } from './matrix.js';

/** Below this many columns a loop of length k or n is mostly overhead: the skinny paths reorder it. */
const SKINNY = 8;
/** A reused fp64 workspace: asked for `size` entries, it returns one of at least that many, grown as needed. */
function reusableBuffer(): (size: number) => Float64Array {
  let buffer = new Float64Array(0);
  return (size) => {
    if (buffer.length < size) buffer = new Float64Array(size);
    return buffer;
  };
}

/** The skinny paths' transposes, and the fused two-layer path's vectors. */
const scratch = reusableBuffer();
/** The fused two-layer path's transposed input-weight gradient (needed beside `scratch`). */
const scratch2 = reusableBuffer();

function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void {
  const size = m * n;
  if (beta === 0) c.fill(0, 0, size);
  else if (beta !== 1) for (let i = 0; i < size; i++) c[i] *= beta;
  if (alpha === 0 || k === 0) return;
  if (!transA && !transB) {
    // a m×k, b k×n: row i of c accumulates rows of b.
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      for (let p = 0; p < k; p++) {
        const s = alpha * a[i * k + p];
        if (s === 0) continue;
        const bp = p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
  } else if (!transA && transB && k <= SKINNY) {
    // a m×k, b n×k with few columns (the first layer on low-dimensional inputs): bᵀ once, then
    // rows of c accumulate its rows, long contiguous inner loops instead of length-k dot products.
    const bt = scratch(k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p];
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      let p = 0;
      // Two rows of bᵀ per pass over c's row: half the loads and stores of c.
      for (; p + 1 < k; p += 2) {
        const s0 = alpha * a[i * k + p];
        const s1 = alpha * a[i * k + p + 1];
        const b0 = p * n;
        const b1 = b0 + n;
        for (let j = 0; j < n; j++) c[ci + j] += s0 * bt[b0 + j] + s1 * bt[b1 + j];
      }
      if (p < k) {
        const s = alpha * a[i * k + p];
        const bp = p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * bt[bp + j];
      }
    }
  } else if (transA && !transB && n <= SKINNY) {
    // a k×m, b k×n with few columns in c (the first layer's gradient): cᵀ accumulated column by
    // column over contiguous rows of a, then added to c.
    const ct = scratch(n * m);
    ct.fill(0, 0, n * m);
    let p = 0;
    for (; p + 1 < k; p += 2) {
      const a0 = p * m;
      const a1 = a0 + m;
      for (let j = 0; j < n; j++) {
        const s0 = alpha * b[p * n + j];
        const s1 = alpha * b[(p + 1) * n + j];
        const cj = j * m;
        for (let i = 0; i < m; i++) ct[cj + i] += s0 * a[a0 + i] + s1 * a[a1 + i];
      }
    }
    if (p < k) {
      const ap = p * m;
      for (let j = 0; j < n; j++) {
        const s = alpha * b[p * n + j];
        const cj = j * m;
        for (let i = 0; i < m; i++) ct[cj + i] += s * a[ap + i];
      }
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * n + j] += ct[j * m + i];
  } else if (!transA && transB) {
    // a m×k, b n×k: contiguous dot products.
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
        c[i * n + j] += alpha * s;
      }
    }
  } else if (transA && !transB) {
    // a k×m, b k×n: rank-one updates, row by row.
    for (let p = 0; p < k; p++) {
      const ap = p * m;
      const bp = p * n;
      for (let i = 0; i < m; i++) {
        const s = alpha * a[ap + i];
        if (s === 0) continue;
        const ci = i * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
  } else {
    // a k×m, b n×k.
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
        c[i * n + j] += alpha * s;
      }
  }
}

function toMl(a: FloatArray, rows: number, cols: number): MlMatrix {
  const m = new MlMatrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, a[i * cols + j]);
  return m;
}

function fromMl(m: MlMatrix): Float64Array {
  const out = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.columns; j++) out[i * m.columns + j] = m.get(i, j);
  return out;
}

/** Per-member buffers of the forward/backward pass, grown on demand and reused. */
interface Workspace {
  dtype: DType;
  capacity: number[];
  pre: FloatArray[];
  post: FloatArray[];
  derivative: FloatArray[];
  delta: FloatArray[];
  lossGradient: FloatArray;
}

function ensureBuffer(buffer: FloatArray | undefined, length: number, dtype: DType): FloatArray {
  return buffer && buffer.length >= length && dtypeOf(buffer) === dtype ? buffer : allocate(length, dtype);
}

function workspaceFor(ws: Workspace | null, batch: MlpBatch, n: number): Workspace {
  const dtype = dtypeOf(batch.weights[0]);
  const layers = batch.widths.length - 1;
  const w: Workspace = ws && ws.dtype === dtype ? ws : { dtype, capacity: [], pre: [], post: [], derivative: [], delta: [], lossGradient: allocate(0, dtype) };
  for (let l = 0; l < layers; l++) {
    const length = n * batch.widths[l + 1];
    if ((w.capacity[l] ?? 0) < length) {
      w.pre[l] = ensureBuffer(undefined, length, dtype);
      w.post[l] = ensureBuffer(undefined, length, dtype);
      w.derivative[l] = ensureBuffer(undefined, length, dtype);
      w.delta[l] = ensureBuffer(undefined, length, dtype);
      w.capacity[l] = length;
    }
  }
  w.lossGradient = ensureBuffer(w.lossGradient, n * batch.widths[layers], dtype);
  return w;
}

/**
 * A two-layer net with one output, ReLU or the identity, on inputs of at most SKINNY dimensions: each
 * row's forward (z = m₁(Wx + b), h = σ(z), f = α m₂ aᵀh) and backward (∂L/∂a += dᵢh, the signal
 * g = dᵢ m₂a ⊙ σ'(z), ∂L/∂b += g, (∂L/∂W)ᵀ += x gᵀ) in one pass over the hidden units each, no other
 * n × m array than h. The quantities of the general path (native/featlab_native.cc has the same).
 */
function twoLayerSmallInput(
  batch: MlpBatch,
  ev: MlpEvaluation,
  k: number,
  hidden: FloatArray,
  loss: Loss | null,
  targets: FloatArray | null,
  outputs: FloatArray,
  losses: Float64Array | null,
  gradients: MlpGradients | null,
  lossGradient: FloatArray,
): void {
  const [d, m] = batch.widths;
  const n = ev.n;
  const [m1, m2] = batch.multipliers;
  const scale = batch.outputScale[k];
  const relu = batch.activation === 'relu' ? 1 : 0;
  const w = batch.weights[0];
  const a = batch.weights[1];
  const b = batch.biases[0];
  const x = ev.inputs;
  // Separate fp64 views (one array each keeps V8's loads simple): Wᵀ rows, m₁b, a, m₂a, and the sums.
  const work = scratch((d + 6) * m);
  const wt = work.subarray(0, d * m);
  const bias = work.subarray(d * m, (d + 1) * m);
  const ak = work.subarray((d + 1) * m, (d + 2) * m);
  const readout = work.subarray((d + 2) * m, (d + 3) * m);
  const sumA = work.subarray((d + 3) * m, (d + 4) * m);
  const sumB = work.subarray((d + 4) * m, (d + 5) * m);
  for (let j = 0; j < m; j++) {
    for (let t = 0; t < d; t++) wt[t * m + j] = w[(k * m + j) * d + t];
    bias[j] = b ? m1 * b[k * m + j] : 0;
    ak[j] = a[k * m + j];
    readout[j] = m2 * ak[j];
  }
  const wt0 = wt.subarray(0, m);
  const wt1 = d > 1 ? wt.subarray(m, 2 * m) : wt0;
  const offsets = ev.offsets;
  for (let i = 0; i < n; i++) {
    const row = i * m;
    let s = 0;
    if (d === 2) {
      // The lab's case (points in the plane), unrolled.
      const x0 = x[2 * i];
      const x1 = x[2 * i + 1];
      for (let j = 0; j < m; j++) {
        const z = (x0 * wt0[j] + x1 * wt1[j]) * m1 + bias[j];
        const h = relu * +(z > 0) * z + (1 - relu) * z;
        hidden[row + j] = h;
        s += h * ak[j];
      }
    } else {
      for (let j = 0; j < m; j++) {
        let z = 0;
        for (let t = 0; t < d; t++) z += x[i * d + t] * wt[t * m + j];
        z = z * m1 + bias[j];
        const h = relu * +(z > 0) * z + (1 - relu) * z;
        hidden[row + j] = h;
        s += h * ak[j];
      }
    }
    outputs[k * n + i] = scale * (m2 * s) - (offsets ? offsets[k * n + i] : 0);
  }
  if (!loss || !targets || !losses || !gradients) return;
  losses[k] = lossAndGradient(loss, outputs.subarray(k * n, (k + 1) * n), targets, n, 1, lossGradient);
  const gradientT = scratch2(d * m);
  gradientT.fill(0, 0, d * m);
  const g0 = gradientT.subarray(0, m);
  const g1 = d > 1 ? gradientT.subarray(m, 2 * m) : g0;
  sumA.fill(0);
  sumB.fill(0);
  for (let i = 0; i < n; i++) {
    const di = scale * lossGradient[i];
    const row = i * m;
    if (d === 2) {
      const x0 = x[2 * i];
      const x1 = x[2 * i + 1];
      for (let j = 0; j < m; j++) {
        const h = hidden[row + j];
        sumA[j] += di * h;
        const g = di * readout[j] * (relu * +(h > 0) + (1 - relu));
        sumB[j] += g;
        g0[j] += g * x0;
        g1[j] += g * x1;
      }
    } else {
      for (let j = 0; j < m; j++) {
        const h = hidden[row + j];
        sumA[j] += di * h;
        const g = di * readout[j] * (relu * +(h > 0) + (1 - relu));
        sumB[j] += g;
        for (let t = 0; t < d; t++) gradientT[t * m + j] += g * x[i * d + t];
      }
    }
  }
  const gw = gradients.weights[0];
  const ga = gradients.weights[1];
  const gb = gradients.biases[0];
  for (let j = 0; j < m; j++) {
    for (let t = 0; t < d; t++) gw[(k * m + j) * d + t] = m1 * gradientT[t * m + j];
    ga[k * m + j] = m2 * sumA[j];
    if (gb) gb[k * m + j] = m1 * sumB[j];
  }
}

export class TsBackend implements Backend {
  readonly name = 'ts';
  private workspace: Workspace | null = null;

  /** @param fusedTwoLayer whether two-layer nets on few inputs take the fused path (tests turn it off to compare). */
  constructor(private readonly fusedTwoLayer = true) {}

  gemm = gemm;

  gram(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
    for (let i = 0; i < rows; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        const ai = i * cols;
        const aj = j * cols;
        for (let p = 0; p < cols; p++) s += a[ai + p] * a[aj + p];
        out[i * rows + j] = s;
        out[j * rows + i] = s;
      }
  }

  symmetricEigenvalues(a: FloatArray, n: number): Float64Array {
    return this.symmetricEigen(a, n).values;
  }

  symmetricEigen(a: FloatArray, n: number): SymmetricEigen {
    const evd = new EigenvalueDecomposition(toMl(a, n, n), { assumeSymmetric: true });
    // ml-matrix returns the symmetric case in ascending order already; sort to be sure.
    const raw = evd.realEigenvalues;
    const vectors = fromMl(evd.eigenvectorMatrix);
    const order = raw.map((_, i) => i).sort((i, j) => raw[i] - raw[j]);
    const values = new Float64Array(n);
    const sorted = new Float64Array(n * n);
    order.forEach((src, dst) => {
      values[dst] = raw[src];
      for (let r = 0; r < n; r++) sorted[r * n + dst] = vectors[r * n + src];
    });
    return { values, vectors: sorted };
  }

  singularValues(a: FloatArray, rows: number, cols: number): Float64Array {
    if (rows === 0 || cols === 0) return new Float64Array(0);
    // ml-matrix wants rows ≥ cols; singular values are those of the transpose.
    const m = rows >= cols ? toMl(a, rows, cols) : toMl(a, rows, cols).transpose();
    const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
    return Float64Array.from(svd.diagonal).sort((x, y) => y - x);
  }

  cholesky(a: FloatArray, n: number): Float64Array {
    const decomposition = new CholeskyDecomposition(toMl(a, n, n));
    if (!decomposition.isPositiveDefinite()) throw new Error('cholesky: the matrix is not symmetric positive definite');
    return fromMl(decomposition.lowerTriangularMatrix);
  }

  ridgeSolve(x: FloatArray, n: number, p: number, y: FloatArray, q: number, lambda: number): Float64Array {
    if (!(lambda >= 0)) throw new Error(`ridgeSolve: lambda must be ≥ 0, got ${lambda}`);
    const xs = Float64Array.from(x);
    const ys = Float64Array.from(y);
    if (p <= n) {
      // Primal: (xᵀx + λI) W = xᵀy.
      const g = new Float64Array(p * p);
      gemm(true, false, p, p, n, 1, xs, xs, 0, g);
      for (let i = 0; i < p; i++) g[i * p + i] += lambda;
      const rhs = new Float64Array(p * q);
      gemm(true, false, p, q, n, 1, xs, ys, 0, rhs);
      return choleskySolve(this.cholesky(g, p), p, rhs, q);
    }
    // Dual (fewer samples than features): W = xᵀ (x xᵀ + λI)⁻¹ y.
    const g = new Float64Array(n * n);
    this.gram(xs, n, p, g);
    for (let i = 0; i < n; i++) g[i * n + i] += lambda;
    const alpha = choleskySolve(this.cholesky(g, n), n, ys, q);
    const w = new Float64Array(p * q);
    gemm(true, false, p, q, n, 1, xs, alpha, 0, w);
    return w;
  }

  mlpForward(batch: MlpBatch, evaluation: MlpEvaluation, outputs: FloatArray): void {
    this.run(batch, evaluation, null, null, outputs, null, null);
  }

  mlpLossGradient(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients): void {
    this.run(batch, evaluation, loss, targets, outputs, losses, gradients);
  }

  private run(batch: MlpBatch, ev: MlpEvaluation, loss: Loss | null, targets: FloatArray | null, outputs: FloatArray, losses: Float64Array | null, gradients: MlpGradients | null): void {
    const { widths, multipliers } = batch;
    const layers = widths.length - 1;
    const n = ev.n;
    const ws = (this.workspace = workspaceFor(this.workspace, batch, n));
    const outWidth = widths[layers];
    const fused = this.fusedTwoLayer && layers === 2 && outWidth === 1 && widths[0] <= SKINNY && (batch.activation === 'relu' || batch.activation === 'linear');
    for (let k = 0; k < batch.ensembleSize; k++) {
      if (ev.active && !ev.active[k]) continue;
      if (fused) {
        twoLayerSmallInput(batch, ev, k, ws.pre[0], loss, targets, outputs, losses, gradients, ws.lossGradient);
        continue;
      }
      // Forward: pre[l] = H_l (m_l W_l)ᵀ + m_l b_l, post[l] = σ(pre[l]) for hidden layers.
      let input: FloatArray = ev.inputs;
      for (let l = 0; l < layers; l++) {
        const fanIn = widths[l];
        const fanOut = widths[l + 1];
        const w = batch.weights[l].subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
        const pre = ws.pre[l];
        gemm(false, true, n, fanOut, fanIn, multipliers[l], input, w, 0, pre);
        const bias = batch.biases[l];
        if (bias) {
          const m = multipliers[l];
          for (let i = 0; i < n; i++) for (let j = 0; j < fanOut; j++) pre[i * fanOut + j] += m * bias[k * fanOut + j];
        }
        if (l < layers - 1) {
          applyActivation(batch.activation, batch.leak, pre, ws.post[l], ws.derivative[l], n * fanOut);
          input = ws.post[l];
        }
      }
      const scale = batch.outputScale[k];
      const out = outputs.subarray(k * n * outWidth, (k + 1) * n * outWidth);
      const last = ws.pre[layers - 1];
      const offset = ev.offsets ? ev.offsets.subarray(k * n * outWidth, (k + 1) * n * outWidth) : null;
      for (let i = 0; i < n * outWidth; i++) out[i] = scale * last[i] - (offset ? offset[i] : 0);
      if (!loss || !targets || !losses || !gradients) continue;

      // Backward: delta[l] = ∂L/∂pre[l].
      const g = ws.lossGradient;
      losses[k] = lossAndGradient(loss, out, targets, n, outWidth, g);
      const top = ws.delta[layers - 1];
      for (let i = 0; i < n * outWidth; i++) top[i] = scale * g[i];
      for (let l = layers - 1; l >= 0; l--) {
        const fanIn = widths[l];
        const fanOut = widths[l + 1];
        const m = multipliers[l];
        const delta = ws.delta[l];
        const layerInput = l === 0 ? ev.inputs : ws.post[l - 1];
        const gw = gradients.weights[l].subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
        gemm(true, false, fanOut, fanIn, n, m, delta, layerInput, 0, gw);
        const gb = gradients.biases[l];
        if (gb) {
          const gbk = gb.subarray(k * fanOut, (k + 1) * fanOut);
          gbk.fill(0);
          for (let i = 0; i < n; i++) for (let j = 0; j < fanOut; j++) gbk[j] += m * delta[i * fanOut + j];
        }
        if (l > 0) {
          const w = batch.weights[l].subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
          const below = ws.delta[l - 1];
          gemm(false, false, n, fanIn, fanOut, m, delta, w, 0, below);
          const d = ws.derivative[l - 1];
          for (let i = 0; i < n * fanIn; i++) below[i] *= d[i];
        }
      }
    }
  }
}

/** Solves L Lᵀ X = B for X (n × q) given the lower Cholesky factor L. */
export function choleskySolve(lower: Float64Array, n: number, b: Float64Array, q: number): Float64Array {
  const x = Float64Array.from(b.subarray(0, n * q));
  for (let c = 0; c < q; c++) {
    for (let i = 0; i < n; i++) {
      let s = x[i * q + c];
      for (let j = 0; j < i; j++) s -= lower[i * n + j] * x[j * q + c];
      x[i * q + c] = s / lower[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = x[i * q + c];
      for (let j = i + 1; j < n; j++) s -= lower[j * n + i] * x[j * q + c];
      x[i * q + c] = s / lower[i * n + i];
    }
  }
  return x;
}
