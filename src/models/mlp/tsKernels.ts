/**
 * The MLP family's kernels in TypeScript: the generic path over a device's gemm and the elementwise
 * maths (any device without kernels of its own runs it), and on the ts device the fused two-layer
 * pass for few inputs. The reference every other implementation is tested against.
 */
import type { Backend } from '../../linalg/backend.js';
import { applyActivation, lossAndGradient, type Loss } from '../../linalg/elementwise.js';
import { allocate, dtypeOf, reusableBuffer, type DType, type FloatArray } from '../../linalg/matrix.js';
import type { MlpBatch, MlpEvaluation, MlpGradients, MlpKernels } from './kernels.js';

/** Inputs of at most this many dimensions take the fused two-layer pass (its inner loop over them is short). */
const FUSED_MAX_INPUTS = 8;
/** The fused two-layer pass's vectors, and its transposed input-weight gradient. */
const vectors = reusableBuffer();
const transposedGradient = reusableBuffer();

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
 * n × m array than h. The quantities of the general path (native/mlp_kernels.h has the same).
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
  const work = vectors((d + 6) * m);
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
  const gradientT = transposedGradient(d * m);
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

export class TsMlpKernels implements MlpKernels {
  private workspace: Workspace | null = null;

  /** @param fusedTwoLayer whether two-layer nets on few inputs take the fused path (tests turn it off to compare). */
  constructor(
    private readonly device: Backend,
    private readonly fusedTwoLayer = true,
  ) {}

  forward(batch: MlpBatch, evaluation: MlpEvaluation, outputs: FloatArray): void {
    this.run(batch, evaluation, null, null, outputs, null, null);
  }

  lossGradient(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients): void {
    this.run(batch, evaluation, loss, targets, outputs, losses, gradients);
  }

  private run(batch: MlpBatch, ev: MlpEvaluation, loss: Loss | null, targets: FloatArray | null, outputs: FloatArray, losses: Float64Array | null, gradients: MlpGradients | null): void {
    const { widths, multipliers } = batch;
    const layers = widths.length - 1;
    const n = ev.n;
    const ws = (this.workspace = workspaceFor(this.workspace, batch, n));
    const outWidth = widths[layers];
    const fused = this.fusedTwoLayer && layers === 2 && outWidth === 1 && widths[0] <= FUSED_MAX_INPUTS && (batch.activation === 'relu' || batch.activation === 'linear');
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
        this.device.gemm(false, true, n, fanOut, fanIn, multipliers[l], input, w, 0, pre);
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
        this.device.gemm(true, false, fanOut, fanIn, n, m, delta, layerInput, 0, gw);
        const gb = gradients.biases[l];
        if (gb) {
          const gbk = gb.subarray(k * fanOut, (k + 1) * fanOut);
          gbk.fill(0);
          for (let i = 0; i < n; i++) for (let j = 0; j < fanOut; j++) gbk[j] += m * delta[i * fanOut + j];
        }
        if (l > 0) {
          const w = batch.weights[l].subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
          const below = ws.delta[l - 1];
          this.device.gemm(false, false, n, fanIn, fanOut, m, delta, w, 0, below);
          const d = ws.derivative[l - 1];
          for (let i = 0; i < n * fanIn; i++) below[i] *= d[i];
        }
      }
    }
  }
}
