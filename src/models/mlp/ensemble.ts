/**
 * Fully connected nets f(x) = outputScale·(W_L σ(… σ(W_1 x + b_1) …)) with an ensemble axis:
 * K members of one shape, each with its own init seed, init scales and output scale, held as flat
 * arrays so one backend call runs them all. A two-layer net is the case of one hidden layer:
 * f(x) = alpha Σ_j a_j σ(w_j·x + b_j), with alpha the output scale. With the init scale λ it sets the
 * feature learning strength 1/(alpha·λ^L) (models/strength.ts), so alpha → ∞ is lazy (Chizat, Oyallon &
 * Bach 2019).
 */
import type { Backend } from '../../linalg/backend.js';
import { applyActivation, type Activation, type Loss } from '../../linalg/elementwise.js';
import { convert, dtypeOf, type DType, type FloatArray, type Matrix } from '../../linalg/matrix.js';
import { Rng } from '../../linalg/rng.js';
import { layerScalings, type LayerScaling, type Parametrization } from '../parametrization.js';
import { mlpKernelsFor, type MlpBatch, type MlpGradients, type MlpKernels } from './kernels.js';
import type { ForwardTrace, Gradients, ManyStepsLoop, ManyStepsRequest, MemberConfig, Model, ParameterSlot } from '../model.js';
import { MlpManySteps } from './manySteps.js';
import { SlottedModel } from '../slotted.js';

/** gaussian: every layer N(0, (initScale·std)²); balanced: |a_j| = ‖(w_j, b_j)‖ with random signs
 * (Boursier & Flammarion); fixedSigns: every output weight ±initScale with random signs, frozen (Oymak
 * et al.'s V with entries ±ν/√k: equal row norms, so each output's block of the Jacobian has one scale). */
export const INIT_SCHEMES = ['gaussian', 'balanced', 'fixedSigns'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

export interface MlpConfig {
  readonly inputDim: number;
  readonly hiddenWidths: readonly number[];
  readonly outputDim: number;
  readonly activation: Activation;
  readonly leak: number;
  readonly parametrization: Parametrization;
  readonly bias: boolean;
  readonly init: InitScheme;
  /** Train f − f₀, the initial function subtracted (Chizat et al. 2019). */
  readonly centerOutput: boolean;
  /** Weight-layer indices (0 = input layer) whose parameters are not trained. */
  readonly frozenLayers: readonly number[];
  readonly dtype: DType;
}

/**
 * Gradients shaped like the parameters, seen both as the kernels' per-layer arrays and as the model's
 * slots. The slot view is a getter (not an own field) so the object crosses into the native addon
 * with exactly the fields native/abi.json lists.
 */
export class MlpEnsembleGradients implements MlpGradients, Gradients {
  readonly #slots: readonly FloatArray[];

  constructor(
    readonly weights: FloatArray[],
    readonly biases: (FloatArray | null)[],
  ) {
    this.#slots = weights.flatMap((w, l) => [w, biases[l]]).filter((a): a is FloatArray => a !== null);
  }

  get slots(): readonly FloatArray[] {
    return this.#slots;
  }
}

export class MlpEnsemble extends SlottedModel implements Model {
  readonly family = 'mlp';
  readonly widths: number[];
  readonly scalings: LayerScaling[];
  readonly batch: MlpBatch;
  readonly initialWeights: FloatArray[];
  readonly initialBiases: (FloatArray | null)[];
  readonly frozen: boolean[];
  /** The device's fused kernels for this family (the generic path where it has none). */
  readonly kernels: MlpKernels;
  /** Per weight layer: its weights, then its biases where it has them (the order of parameters()). */
  readonly slots: readonly ParameterSlot[];
  readonly layerLearningRateScales: readonly number[];
  private offsetCache: { inputs: FloatArray; offsets: FloatArray } | null = null;

  constructor(
    readonly config: MlpConfig,
    readonly members: readonly MemberConfig[],
    readonly backend: Backend,
    /** Kernels other than the device's registered ones (tests compare the fused and generic paths). */
    kernels?: MlpKernels,
  ) {
    super();
    validateConfig(config, members);
    this.kernels = kernels ?? mlpKernelsFor(backend);
    this.widths = [config.inputDim, ...config.hiddenWidths, config.outputDim];
    const layers = this.widths.length - 1;
    this.scalings = layerScalings(config.parametrization, this.widths);
    this.frozen = Array.from({ length: layers }, (_, l) => config.frozenLayers.includes(l) || (config.init === 'fixedSigns' && l === layers - 1));
    const K = members.length;
    const weights: FloatArray[] = [];
    const biases: (FloatArray | null)[] = [];
    for (let l = 0; l < layers; l++) {
      weights.push(backend.allocate(K * this.widths[l + 1] * this.widths[l], config.dtype));
      biases.push(config.bias && l < layers - 1 ? backend.allocate(K * this.widths[l + 1], config.dtype) : null);
    }
    this.batch = {
      widths: this.widths,
      ensembleSize: K,
      activation: config.activation,
      leak: config.leak,
      multipliers: Float64Array.from(this.scalings, (s) => s.multiplier),
      weights,
      biases,
      outputScale: Float64Array.from(members, (m) => m.outputScale),
    };
    members.forEach((member, k) => this.initializeMember(k, member));
    this.initialWeights = weights.map((w) => w.slice());
    this.initialBiases = biases.map((b) => (b ? b.slice() : null));
    this.slots = weights.flatMap((w, layer) => {
      const common = { layer, trained: !this.frozen[layer] };
      const slots: ParameterSlot[] = [{ ...common, kind: 'weight', values: w, initial: this.initialWeights[layer], size: w.length / K }];
      const b = biases[layer];
      const initial = this.initialBiases[layer];
      if (b && initial) slots.push({ ...common, kind: 'bias', values: b, initial, size: b.length / K });
      return slots;
    });
    this.layerLearningRateScales = this.scalings.map((s) => s.lrScale);
  }

  get layerCount(): number {
    return this.widths.length - 1;
  }

  private initializeMember(k: number, member: MemberConfig): void {
    const root = Rng.fromSeed(member.seed).child('model');
    const layers = this.layerCount;
    for (let l = 0; l < layers; l++) {
      const rng = root.child(`layer${l}`);
      const fanIn = this.widths[l];
      const fanOut = this.widths[l + 1];
      const std = this.initScaleOf(k, l) * this.scalings[l].initStd;
      const w = this.batch.weights[l].subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
      const isOutput = l === layers - 1;
      if (isOutput && this.config.init === 'fixedSigns') {
        // Effective a_j = ±initScale.
        for (let i = 0; i < w.length; i++) w[i] = (rng.sign() * this.initScaleOf(k, l)) / this.scalings[l].multiplier;
        continue;
      }
      if (isOutput && this.config.init === 'balanced') continue; // set from the hidden layer below
      for (let i = 0; i < w.length; i++) w[i] = std * rng.gaussian();
      const b = this.batch.biases[l];
      if (b) {
        const bk = b.subarray(k * fanOut, (k + 1) * fanOut);
        for (let i = 0; i < fanOut; i++) bk[i] = std * rng.gaussian();
      }
    }
    if (this.config.init === 'balanced') {
      // |a_j|·m_out = m_in·‖(w_j, b_j)‖ in effective weights, sign ±1 with probability ½.
      const rng = root.child(`layer${layers - 1}`);
      const d = this.widths[0];
      const m = this.widths[1];
      const w = this.batch.weights[0].subarray(k * m * d, (k + 1) * m * d);
      const b = this.batch.biases[0]?.subarray(k * m, (k + 1) * m);
      const a = this.batch.weights[1].subarray(k * m, (k + 1) * m);
      for (let j = 0; j < m; j++) {
        let s = b ? b[j] * b[j] : 0;
        for (let i = 0; i < d; i++) s += w[j * d + i] * w[j * d + i];
        a[j] = (rng.sign() * this.scalings[0].multiplier * Math.sqrt(s)) / this.scalings[1].multiplier;
      }
    }
  }

  /** K × n × outputDim values of f₀ on these inputs when centerOutput is on (cached per input array). */
  offsetsFor(inputs: Matrix): FloatArray | null {
    if (!this.config.centerOutput) return null;
    if (this.offsetCache?.inputs === inputs.data) return this.offsetCache.offsets;
    const initial: MlpBatch = { ...this.batch, weights: this.initialWeights, biases: this.initialBiases };
    const offsets = this.backend.allocate(this.ensembleSize * inputs.rows * this.config.outputDim, this.config.dtype);
    this.kernels.forward(initial, { inputs: this.inModelDtype(inputs), n: inputs.rows, offsets: null, active: null }, offsets);
    this.offsetCache = { inputs: inputs.data, offsets };
    return offsets;
  }

  /**
   * The inputs in the parameters' float type: a backend reads every array of a call as that type
   * (a metric's fp64 copy of the data handed to a float32 model was read as float32 bytes).
   */
  private inModelDtype(inputs: Matrix): FloatArray {
    return convert(inputs, this.config.dtype).data;
  }

  /** K × n × outputDim outputs. */
  forward(inputs: Matrix, outputs?: FloatArray, active: Uint8Array | null = null): FloatArray {
    this.checkInputs(inputs);
    const out = outputs ?? this.backend.allocate(this.ensembleSize * inputs.rows * this.config.outputDim, this.config.dtype);
    this.checkDtype('outputs', out);
    this.kernels.forward(this.batch, { inputs: this.inModelDtype(inputs), n: inputs.rows, offsets: this.offsetsFor(inputs), active }, out);
    return out;
  }

  /** Mean loss per member into losses, gradients into gradients (shaped like the parameters). */
  /** offsets: f₀ on these inputs (K × n × outputDim) when the caller has them, e.g. gathered for a minibatch. */
  lossGradient(inputs: Matrix, targets: FloatArray, loss: Loss, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients & Gradients, active: Uint8Array | null = null, offsets?: FloatArray | null): void {
    this.checkInputs(inputs);
    this.checkDtype('outputs', outputs);
    const evaluation = { inputs: this.inModelDtype(inputs), n: inputs.rows, offsets: offsets === undefined ? this.offsetsFor(inputs) : offsets, active };
    this.kernels.lossGradient(this.batch, evaluation, loss, targets, outputs, losses, gradients);
  }

  /** Buffers the backend writes must be of the parameters' float type (it writes them as that type). */
  private checkDtype(name: string, array: FloatArray): void {
    if (dtypeOf(array) !== this.config.dtype) throw new Error(`internal: ${name} is ${dtypeOf(array)} for a ${this.config.dtype} model`);
  }

  allocateGradients(): MlpEnsembleGradients {
    return new MlpEnsembleGradients(
      this.batch.weights.map((w) => this.backend.allocate(w.length, this.config.dtype)),
      this.batch.biases.map((b) => (b ? this.backend.allocate(b.length, this.config.dtype) : null)),
    );
  }

  private checkInputs(inputs: Matrix): void {
    if (inputs.cols !== this.widths[0]) throw new Error(`inputs have ${inputs.cols} columns, the model expects inputDim = ${this.widths[0]}`);
  }

  /** The device's many-steps kernel driven for this training, where the device has one. */
  manySteps(request: ManyStepsRequest): ManyStepsLoop | null {
    const trainSteps = this.kernels.trainSteps?.bind(this.kernels);
    if (!trainSteps) return null;
    if (!(request.gradients instanceof MlpEnsembleGradients)) throw new Error('internal: a many-steps request with gradients its model did not allocate');
    return new MlpManySteps(this, request, request.gradients, trainSteps);
  }

  /** Sets member k's layer l, as an effective matrix (fanOut × fanIn), and makes it the member's initialization. */
  setInitialEffectiveWeights(k: number, layer: number, effective: ArrayLike<number>): void {
    const fanIn = this.widths[layer];
    const fanOut = this.widths[layer + 1];
    if (effective.length !== fanIn * fanOut) throw new Error(`layer ${layer} has ${fanOut} × ${fanIn} weights, got ${effective.length}`);
    const m = this.scalings[layer].multiplier;
    for (const target of [this.batch.weights[layer], this.initialWeights[layer]]) {
      const slice = target.subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
      for (let i = 0; i < slice.length; i++) slice[i] = effective[i] / m;
    }
    this.offsetCache = null;
  }

  /** Effective weight matrix of layer l for member k (fanOut × fanIn, fp64). */
  effectiveWeights(k: number, layer: number): Matrix & { data: Float64Array } {
    const fanIn = this.widths[layer];
    const fanOut = this.widths[layer + 1];
    const m = this.scalings[layer].multiplier;
    const src = this.batch.weights[layer].subarray(k * fanOut * fanIn, (k + 1) * fanOut * fanIn);
    return { rows: fanOut, cols: fanIn, data: Float64Array.from(src, (v) => m * v) };
  }

  effectiveBiases(k: number, layer: number): Float64Array | null {
    const b = this.batch.biases[layer];
    if (!b) return null;
    const fanOut = this.widths[layer + 1];
    const m = this.scalings[layer].multiplier;
    return Float64Array.from(b.subarray(k * fanOut, (k + 1) * fanOut), (v) => m * v);
  }

  /** All pre-activations, activations and activation derivatives of member k, in fp64. */
  trace(k: number, inputs: Matrix): ForwardTrace {
    this.checkInputs(inputs);
    const n = inputs.rows;
    const pre: Float64Array[] = [];
    const post: Float64Array[] = [];
    const derivative: Float64Array[] = [];
    let h = Float64Array.from(inputs.data);
    for (let l = 0; l < this.layerCount; l++) {
      const fanIn = this.widths[l];
      const fanOut = this.widths[l + 1];
      const w = this.effectiveWeights(k, l);
      const z = new Float64Array(n * fanOut);
      this.backend.gemm(false, true, n, fanOut, fanIn, 1, h, w.data, 0, z);
      const b = this.effectiveBiases(k, l);
      if (b) for (let i = 0; i < n; i++) for (let j = 0; j < fanOut; j++) z[i * fanOut + j] += b[j];
      pre.push(z);
      if (l < this.layerCount - 1) {
        const value = new Float64Array(n * fanOut);
        const d = new Float64Array(n * fanOut);
        applyActivation(this.config.activation, this.config.leak, z, value, d, n * fanOut);
        post.push(value);
        derivative.push(d);
        h = value;
      }
    }
    return { pre, post, derivative };
  }

  /** Hidden features of the last hidden layer for member k: n × n_{L−1}. */
  features(k: number, inputs: Matrix): Matrix & { data: Float64Array } {
    const t = this.trace(k, inputs);
    return { rows: inputs.rows, cols: this.widths[this.layerCount - 1], data: t.post[t.post.length - 1] };
  }

  /**
   * Jacobian of the outputs of member k with respect to its trainable parameters:
   * (n·outputDim) × parameterCount, row i·outputDim + c, parameters layer by layer (W row-major, then b).
   */
  jacobian(k: number, inputs: Matrix): Matrix & { data: Float64Array } {
    const n = inputs.rows;
    const outDim = this.config.outputDim;
    const p = this.parameterCount;
    const t = this.trace(k, inputs);
    const layerInputs = [Float64Array.from(inputs.data), ...t.post];
    const offsets: number[] = [];
    let offset = 0;
    for (let l = 0; l < this.layerCount; l++) {
      offsets.push(offset);
      if (!this.frozen[l]) offset += this.widths[l + 1] * this.widths[l] + (this.batch.biases[l] ? this.widths[l + 1] : 0);
    }
    const jac = new Float64Array(n * outDim * p);
    const scale = this.batch.outputScale[k];
    for (let c = 0; c < outDim; c++) {
      let delta = new Float64Array(n * outDim);
      for (let i = 0; i < n; i++) delta[i * outDim + c] = scale;
      for (let l = this.layerCount - 1; l >= 0; l--) {
        const fanIn = this.widths[l];
        const fanOut = this.widths[l + 1];
        const m = this.scalings[l].multiplier;
        if (!this.frozen[l]) {
          const h = layerInputs[l];
          const hasBias = this.batch.biases[l] !== null;
          for (let i = 0; i < n; i++) {
            const rowBase = (i * outDim + c) * p + offsets[l];
            for (let a = 0; a < fanOut; a++) {
              const g = m * delta[i * fanOut + a];
              if (g === 0) continue;
              for (let b = 0; b < fanIn; b++) jac[rowBase + a * fanIn + b] = g * h[i * fanIn + b];
              if (hasBias) jac[rowBase + fanOut * fanIn + a] = g;
            }
          }
        }
        if (l > 0) {
          const w = this.effectiveWeights(k, l);
          const below = new Float64Array(n * fanIn);
          this.backend.gemm(false, false, n, fanIn, fanOut, 1, delta, w.data, 0, below);
          const d = t.derivative[l - 1];
          for (let i = 0; i < below.length; i++) below[i] *= d[i];
          delta = below;
        }
      }
    }
    return { rows: n * outDim, cols: p, data: jac };
  }

  /**
   * J Jᵀ of member k over these inputs ((n·outputDim)², rows as in jacobian()): the empirical NTK
   * Gram matrix. For a two-layer net without forming J: with H = σ(Z), D = σ'(Z) (n × m), effective
   * output weights A (outputDim × m), multipliers m₁, m₂ and output scale α,
   *   K[(i,c),(i',c')] = α² (m₂² δ_cc' (HHᵀ)_ii' + m₁² (XXᵀ + b)_ii' Σ_j A_cj A_c'j D_ij D_i'j)
   * (b = 1 with hidden biases; a frozen layer drops its term): products of inner size m instead of
   * the m·(d + outputDim) columns of J. Deeper nets go through jacobian().
   */
  ntkGram(k: number, inputs: Matrix): Float64Array {
    const rows = inputs.rows * this.config.outputDim;
    if (this.layerCount !== 2) {
      const jac = this.jacobian(k, inputs);
      const gram = new Float64Array(rows * rows);
      this.backend.gram(jac.data, jac.rows, jac.cols, gram);
      return gram;
    }
    this.checkInputs(inputs);
    if (this.kernels.ntkGram) return this.kernels.ntkGram(this.batch, k, inputs.data, inputs.rows, !this.frozen[0], !this.frozen[1]);
    const n = inputs.rows;
    const d = this.widths[0];
    const m = this.widths[1];
    const outputs = this.config.outputDim;
    const alpha2 = this.batch.outputScale[k] ** 2;
    const [m1, m2] = [this.scalings[0].multiplier, this.scalings[1].multiplier];
    const t = this.trace(k, inputs);
    const hidden = t.post[0];
    const slopes = t.derivative[0];
    const gram = new Float64Array(rows * rows);
    // gram[(i, c), (i', c2)] += weight · block[i, i'] (· times[i, i'] where given).
    const add = (block: Float64Array, c: number, c2: number, weight: number, times: Float64Array | null) => {
      for (let i = 0; i < n; i++) {
        const base = (i * outputs + c) * rows + c2;
        const row = i * n;
        if (times) for (let j = 0; j < n; j++) gram[base + j * outputs] += weight * block[row + j] * times[row + j];
        else for (let j = 0; j < n; j++) gram[base + j * outputs] += weight * block[row + j];
      }
    };
    if (!this.frozen[1]) {
      const hh = new Float64Array(n * n);
      this.backend.gram(hidden, n, m, hh);
      for (let c = 0; c < outputs; c++) add(hh, c, c, alpha2 * m2 * m2, null);
    }
    if (!this.frozen[0]) {
      const xx = new Float64Array(n * n);
      this.backend.gram(Float64Array.from(inputs.data), n, d, xx);
      if (this.batch.biases[0]) for (let i = 0; i < xx.length; i++) xx[i] += 1;
      const a = this.effectiveWeights(k, 1).data;
      // (D ⊙ A_c): the output-weighted slopes of each output c, n × m.
      const weighted = Array.from({ length: outputs }, (_, c) => {
        const out = new Float64Array(n * m);
        for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = slopes[i * m + j] * a[c * m + j];
        return out;
      });
      const block = new Float64Array(n * n);
      for (let c = 0; c < outputs; c++)
        for (let c2 = 0; c2 < outputs; c2++) {
          if (c === c2) this.backend.gram(weighted[c], n, m, block);
          else this.backend.gemm(false, true, n, n, m, 1, weighted[c], weighted[c2], 0, block);
          add(block, c, c2, alpha2 * m1 * m1, xx);
        }
    }
    return gram;
  }
}

function validateConfig(config: MlpConfig, members: readonly MemberConfig[]): void {
  const fail = (field: string, message: string): never => {
    throw new Error(`model.${field}: ${message}`);
  };
  if (!Number.isInteger(config.inputDim) || config.inputDim < 1) fail('inputDim', `must be a positive integer, got ${config.inputDim}`);
  if (!Number.isInteger(config.outputDim) || config.outputDim < 1) fail('outputDim', `must be a positive integer, got ${config.outputDim}`);
  if (config.hiddenWidths.length < 1) fail('hiddenWidths', 'needs at least one hidden layer');
  config.hiddenWidths.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1) fail(`hiddenWidths[${i}]`, `must be a positive integer, got ${w}`);
  });
  const layers = config.hiddenWidths.length + 1;
  config.frozenLayers.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= layers) fail(`frozenLayers[${i}]`, `must be a layer index in 0..${layers - 1}, got ${l}`);
  });
  if (config.init === 'balanced' && (layers !== 2 || config.outputDim !== 1)) fail('init', '"balanced" is defined for two-layer nets with one output; use "gaussian" or "fixedSigns"');
  if (members.length < 1) fail('members', 'an ensemble needs at least one member');
  members.forEach((m, k) => {
    if (!(m.outputScale > 0) || !Number.isFinite(m.outputScale)) fail('outputScale', `must be a positive finite number, got ${m.outputScale} (member ${k})`);
    const scales = typeof m.initScale === 'number' ? [m.initScale] : m.initScale;
    if (typeof m.initScale !== 'number' && m.initScale.length !== layers) fail('initScale', `needs one value per weight layer (${layers}), got ${m.initScale.length}`);
    scales.forEach((s) => {
      if (!(s >= 0) || !Number.isFinite(s)) fail('initScale', `must be a non-negative finite number, got ${s} (member ${k})`);
    });
  });
}
