/**
 * An ensemble of K convolutional nets of one shape (src/models/cnn/plan.ts), on any device through its
 * gemm: a convolution is its input's patches gathered into rows (im2col) times the weights, images are
 * stored channels-last. The generic path; the fp64 oracle of any faster kernel.
 */
import type { Backend } from '../../linalg/backend.js';
import { lossAndGradient, type Activation, type Loss } from '../../linalg/elementwise.js';
import { allocate, convert, type DType, type FloatArray, type Matrix } from '../../linalg/matrix.js';
import { Rng } from '../../linalg/rng.js';
import { blockedGram } from '../../linalg/blockedGram.js';
import { layerScalingsOfFans, type LayerScaling, type Parametrization } from '../parametrization.js';
import type { ForwardTrace, Gradients, ManyStepsLoop, MemberConfig, Model, ParameterSlot } from '../model.js';
import { SlottedModel } from '../slotted.js';
import { channelsLast, globalAvgPoolBackward, globalAvgPoolForward } from './imageOps.js';
import { cnnKernelsFor, type CnnKernels } from './kernels.js';
import { fanInOf, sizeOf, type ConvOp, type Op, type Plan } from './plan.js';

export interface CnnConfig {
  readonly plan: Plan;
  readonly outputDim: number;
  readonly activation: Activation;
  readonly leak: number;
  readonly parametrization: Parametrization;
  readonly bias: boolean;
  readonly init: 'kaiming' | 'lecun';
  readonly centerOutput: boolean;
  readonly frozenLayers: readonly number[];
  readonly dtype: DType;
}

/** Bytes one chunk of samples may hold at once (caches of every layer for the backward pass). */
const CHUNK_BYTES = 256 * 1024 * 1024;

/** What one member's pass over a chunk reads and writes. */
interface Pass {
  readonly n: number;
  readonly weights: readonly FloatArray[];
  readonly biases: readonly (FloatArray | null)[];
  /** Gradient slices of the member, or null for a forward pass; add to them after the first chunk. */
  readonly gradientWeights: readonly FloatArray[] | null;
  readonly gradientBiases: readonly (FloatArray | null)[] | null;
  readonly accumulate: boolean;
  /** What each op's backward step reads: a convolution's patches (im2col) or its input (a library's), an activation's derivative, a max pool's winners. */
  readonly cache: Map<Op, { cols?: FloatArray; input?: Float32Array; derivative?: FloatArray; where?: Int32Array }>;
}

export class CnnEnsemble extends SlottedModel implements Model {
  readonly family = 'cnn';
  readonly scalings: LayerScaling[];
  readonly weights: FloatArray[] = [];
  readonly biases: (FloatArray | null)[] = [];
  readonly frozen: boolean[];
  readonly slots: readonly ParameterSlot[];
  readonly layerLearningRateScales: readonly number[];
  private readonly chunk: number;
  /** The device's patch kernels (the TypeScript ones where it has none). */
  private readonly kernels: CnnKernels;
  private offsetCache: { inputs: FloatArray; offsets: FloatArray } | null = null;
  /** Each op's buffers, kept from pass to pass (a pass overwrites every value it reads back). */
  private readonly workspace = new Map<Op | 'loss' | 'input', Map<string, FloatArray>>();
  private readonly maxIndices = new Map<Op, Int32Array>();

  constructor(
    readonly config: CnnConfig,
    readonly members: readonly MemberConfig[],
    readonly backend: Backend,
    /** Samples per pass (tests set it to compare chunked and whole passes); from CHUNK_BYTES by default. */
    chunk?: number,
  ) {
    super();
    this.kernels = cnnKernelsFor(backend);
    const convs = config.plan.convs;
    const layers = convs.length;
    if (members.length < 1) throw new Error('model.members: an ensemble needs at least one member');
    config.frozenLayers.forEach((l, i) => {
      if (!Number.isInteger(l) || l < 0 || l >= layers) throw new Error(`model.frozenLayers[${i}]: must be a weight layer index in 0..${layers - 1}, got ${l}`);
    });
    members.forEach((m) => {
      if (typeof m.initScale !== 'number' && m.initScale.length !== layers) throw new Error(`model.initScale: needs one value per weight layer (${layers}), got ${m.initScale.length}`);
    });
    this.scalings = layerScalingsOfFans(config.parametrization, convs.map(fanInOf), convs.map((op) => op.output.channels));
    this.frozen = convs.map((_, l) => config.frozenLayers.includes(l));
    const K = members.length;
    for (const op of convs) {
      this.weights.push(backend.allocate(K * op.output.channels * fanInOf(op), config.dtype));
      this.biases.push(config.bias && op.layer < layers - 1 ? backend.allocate(K * op.output.channels, config.dtype) : null);
    }
    members.forEach((member, k) => this.initializeMember(k, member));
    this.slots = this.weights.flatMap((w, layer) => {
      const common = { layer, trained: !this.frozen[layer] };
      const slots: ParameterSlot[] = [{ ...common, kind: 'weight', values: w, initial: w.slice(), size: w.length / K }];
      const b = this.biases[layer];
      if (b) slots.push({ ...common, kind: 'bias', values: b, initial: b.slice(), size: b.length / K });
      return slots;
    });
    this.layerLearningRateScales = this.scalings.map((s) => s.lrScale);
    // A library's convolutions keep no patches: a chunk then holds the activations alone.
    const patches = !(this.kernels.convolve && config.dtype === 'float32');
    const chunkValues = CHUNK_BYTES / (config.dtype === 'float32' ? 4 : 8);
    this.chunk = chunk ?? Math.max(1, Math.floor(chunkValues / valuesPerSample(config.plan.ops, patches)));
  }

  get layerCount(): number {
    return this.config.plan.convs.length;
  }

  /** Stored weights N(0, (initScale·std)²) from the stream `model/layer<l>`, the biases after them (as the MLP family draws). */
  private initializeMember(k: number, member: MemberConfig): void {
    const root = Rng.fromSeed(member.seed).child('model');
    const layers = this.layerCount;
    for (const op of this.config.plan.convs) {
      const l = op.layer;
      const rng = root.child(`layer${l}`);
      const gain = this.config.init === 'kaiming' && l < layers - 1 ? Math.SQRT2 : 1;
      const std = this.initScaleOf(k, l) * this.scalings[l].initStd * gain;
      const w = this.memberSlice(this.weights[l], k);
      for (let i = 0; i < w.length; i++) w[i] = std * rng.gaussian();
      const b = this.memberSlice(this.biases[l], k);
      if (b) for (let i = 0; i < b.length; i++) b[i] = std * rng.gaussian();
    }
  }

  /** Member k's part of an array laid out like a slot (K equal parts), or null for no array. */
  private memberSlice<A extends FloatArray | null>(array: A, k: number): A {
    if (!array) return array;
    const size = array.length / this.ensembleSize;
    return array.subarray(k * size, (k + 1) * size) as A;
  }

  private checkInputs(inputs: Matrix): void {
    const expected = sizeOf(this.config.plan.input);
    if (inputs.cols !== expected) {
      const s = this.config.plan.input;
      throw new Error(`inputs have ${inputs.cols} columns, the model expects ${s.channels}×${s.height}×${s.width} = ${expected}`);
    }
  }

  /** Op's buffer for a role, `length` values of the parameters' float type (contents left from the last pass). */
  private buffer(op: Op | 'loss' | 'input', role: string, length: number): FloatArray {
    let roles = this.workspace.get(op);
    if (!roles) this.workspace.set(op, (roles = new Map()));
    let b = roles.get(role);
    if (!b || b.length < length) roles.set(role, (b = allocate(length, this.dtype)));
    return b.subarray(0, length);
  }

  /** Rows n0..n0+n of the inputs (already in the parameters' float type), channels-last. */
  private chunkInputs(data: FloatArray, n0: number, n: number): FloatArray {
    const s = this.config.plan.input;
    const d = sizeOf(s);
    const rows = data.subarray(n0 * d, (n0 + n) * d);
    if (s.channels === 1 || s.height * s.width === 1) return rows;
    const out = this.buffer('input', 'channelsLast', n * d);
    channelsLast(s, rows, n, out);
    return out;
  }

  /** The inputs in the parameters' float type (a copy only where it differs). */
  private inModelDtype(inputs: Matrix): FloatArray {
    return convert(inputs, this.config.dtype).data;
  }

  offsetsFor(inputs: Matrix): FloatArray | null {
    if (!this.config.centerOutput) return null;
    if (this.offsetCache?.inputs === inputs.data) return this.offsetCache.offsets;
    const offsets = this.backend.allocate(this.ensembleSize * inputs.rows * this.outputDim, this.dtype);
    this.run(inputs, null, null, offsets, null, null, null, null, true);
    this.offsetCache = { inputs: inputs.data, offsets };
    return offsets;
  }

  forward(inputs: Matrix, outputs?: FloatArray, active: Uint8Array | null = null): FloatArray {
    this.checkInputs(inputs);
    const out = outputs ?? this.backend.allocate(this.ensembleSize * inputs.rows * this.outputDim, this.dtype);
    this.run(inputs, null, null, out, null, null, active, this.offsetsFor(inputs), false);
    return out;
  }

  lossGradient(inputs: Matrix, targets: FloatArray, loss: Loss, outputs: FloatArray, losses: Float64Array, gradients: Gradients, active: Uint8Array | null = null, offsets?: FloatArray | null): void {
    this.checkInputs(inputs);
    this.run(inputs, loss, targets, outputs, losses, gradients, active, offsets === undefined ? this.offsetsFor(inputs) : offsets, false);
  }

  allocateGradients(): Gradients {
    return { slots: this.slots.map((slot) => this.backend.allocate(slot.values.length, this.dtype)) };
  }

  /** Slot index of layer l's weights and biases. */
  private slotIndex(l: number, kind: 'weight' | 'bias'): number {
    return this.slots.findIndex((s) => s.layer === l && s.kind === kind);
  }

  /**
   * Outputs f = α·net − f₀ of each active member, chunk by chunk; with a loss, its mean into losses and
   * its gradient in the stored parameters into gradients (summed over the chunks).
   */
  private run(inputs: Matrix, loss: Loss | null, targets: FloatArray | null, outputs: FloatArray, losses: Float64Array | null, gradients: Gradients | null, active: Uint8Array | null, offsets: FloatArray | null, initial: boolean): void {
    const n = inputs.rows;
    const width = this.outputDim;
    const targetsPerRow = loss === 'square' ? width : 1;
    const data = this.inModelDtype(inputs);
    for (let k = 0; k < this.ensembleSize; k++) {
      if (active && !active[k]) continue;
      const scale = this.members[k].outputScale;
      let total = 0;
      // Chunks of one size (a last short one would need primitives of its own shape).
      const size = Math.ceil(n / Math.ceil(n / this.chunk));
      for (let n0 = 0; n0 < n; n0 += size) {
        const rows = Math.min(size, n - n0);
        const pass = this.memberPass(k, rows, gradients, initial, n0 > 0);
        const net = this.forwardOps(this.config.plan.ops, this.chunkInputs(data, n0, rows), pass);
        const out = outputs.subarray((k * n + n0) * width, (k * n + n0 + rows) * width);
        const offset = offsets ? offsets.subarray((k * n + n0) * width, (k * n + n0 + rows) * width) : null;
        for (let i = 0; i < rows * width; i++) out[i] = scale * net[i] - (offset ? offset[i] : 0);
        if (!loss || !targets || !losses || !gradients) continue;
        const g = this.buffer('loss', 'gradient', rows * width);
        const chunkTargets = targets.subarray(n0 * targetsPerRow, (n0 + rows) * targetsPerRow);
        // The mean over the chunk, reweighted to the mean over all n (factor 1 with one chunk).
        const share = rows / n;
        total += share * lossAndGradient(loss, out, chunkTargets, rows, width, g);
        for (let i = 0; i < g.length; i++) g[i] *= scale * share;
        this.backwardOps(this.config.plan.ops, g, pass, false);
      }
      if (losses && loss) losses[k] = total;
    }
  }

  private forwardOps(ops: readonly Op[], x: FloatArray, pass: Pass): FloatArray {
    let h = x;
    for (const op of ops) h = this.forwardOp(op, h, pass);
    return h;
  }

  private forwardOp(op: Op, x: FloatArray, pass: Pass): FloatArray {
    const n = pass.n;
    const y = this.buffer(op, 'output', n * sizeOf(op.output));
    switch (op.kind) {
      case 'conv': {
        const fanIn = fanInOf(op);
        const positions = n * op.output.height * op.output.width;
        const m = this.scalings[op.layer].multiplier;
        const channels = op.output.channels;
        const w = pass.weights[op.layer];
        const library = this.libraryConvolution(op, x, w, y);
        if (library) {
          library(op, n, 'forward', x as Float32Array, w as Float32Array, y as Float32Array, m, false);
          pass.cache.set(op, { input: x as Float32Array });
        } else {
          let cols = x;
          if (!isPointwise(op)) {
            cols = this.buffer(op, 'patches', positions * fanIn);
            this.kernels.im2col(op, x, n, cols);
          }
          this.backend.gemm(false, true, positions, channels, fanIn, m, cols, w, 0, y);
          pass.cache.set(op, { cols });
        }
        const b = pass.biases[op.layer];
        if (b) for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) y[p * channels + c] += m * b[c];
        return y;
      }
      case 'activation': {
        const derivative = this.buffer(op, 'derivative', y.length);
        this.kernels.activate(this.config.activation, this.config.leak, x, y, derivative);
        pass.cache.set(op, { derivative });
        return y;
      }
      case 'pool': {
        const where = this.indices(op, op.pool === 'max' ? y.length : 0);
        this.kernels.poolForward(op.pool, op.input, op.output, op.size, op.stride, x, n, y, where);
        pass.cache.set(op, { where });
        return y;
      }
      case 'globalAvgPool':
        globalAvgPoolForward(op.input, x, n, y);
        return y;
      case 'residual': {
        const branch = this.forwardOps(op.branch, x, pass);
        const shortcut = op.shortcut.length ? this.forwardOps(op.shortcut, x, pass) : x;
        this.kernels.combine('sum', branch, shortcut, y);
        return y;
      }
    }
  }

  /**
   * The device's library convolution for this op when it has one and the arrays are float32 (1×1
   * convolutions at stride 1, the dense layers among them, are plain matrix products: gemm).
   */
  private libraryConvolution(op: ConvOp, ...arrays: FloatArray[]): CnnKernels['convolve'] {
    if (!this.kernels.convolve || isPointwise(op) || !arrays.every((a) => a instanceof Float32Array)) return undefined;
    // Where the output's floor drops input rows or columns past the last window, the library would need a
    // negative padding on that side: im2col takes those.
    const { input, output, kernel, stride, padding } = op;
    if ((output.height - 1) * stride + kernel < input.height + padding || (output.width - 1) * stride + kernel < input.width + padding) return undefined;
    return this.kernels.convolve;
  }

  /** ∂L/∂(the ops' input) from ∂L/∂(their output), the parameters' gradients written on the way; null when not needed. */
  private backwardOps(ops: readonly Op[], dy: FloatArray, pass: Pass, needInput: boolean): FloatArray | null {
    let g: FloatArray | null = dy;
    for (let i = ops.length - 1; i >= 0 && g; i--) g = this.backwardOp(ops[i], g, pass, needInput || i > 0);
    return g;
  }

  private backwardOp(op: Op, dy: FloatArray, pass: Pass, needInput: boolean): FloatArray | null {
    const n = pass.n;
    const inputSize = n * sizeOf(op.input);
    switch (op.kind) {
      case 'conv': {
        const cache = pass.cache.get(op);
        if (!cache?.cols && !cache?.input) throw new Error('internal: a convolution stepped back before its forward pass');
        const fanIn = fanInOf(op);
        const positions = n * op.output.height * op.output.width;
        const channels = op.output.channels;
        const m = this.scalings[op.layer].multiplier;
        const beta = pass.accumulate ? 1 : 0;
        const gw = pass.gradientWeights?.[op.layer];
        const library = cache.input ? this.kernels.convolve : undefined;
        if (gw && library && cache.input) library(op, n, 'weightGradient', cache.input, dy as Float32Array, gw as Float32Array, m, pass.accumulate);
        else if (gw && cache.cols) this.backend.gemm(true, false, channels, fanIn, positions, m, dy, cache.cols, beta, gw);
        const gb = pass.gradientBiases?.[op.layer];
        if (gb) {
          if (!pass.accumulate) gb.fill(0);
          for (let p = 0; p < positions; p++) for (let c = 0; c < channels; c++) gb[c] += m * dy[p * channels + c];
        }
        if (!needInput) return null;
        if (library) {
          const dx = this.buffer(op, 'inputGradient', inputSize);
          library(op, n, 'inputGradient', dy as Float32Array, pass.weights[op.layer] as Float32Array, dx as Float32Array, m, false);
          return dx;
        }
        const dcols = this.buffer(op, 'patchGradient', positions * fanIn);
        this.backend.gemm(false, false, positions, fanIn, channels, m, dy, pass.weights[op.layer], 0, dcols);
        if (isPointwise(op)) return dcols;
        const dx = this.buffer(op, 'inputGradient', inputSize);
        this.kernels.col2im(op, dcols, n, dx);
        return dx;
      }
      case 'activation': {
        const derivative = pass.cache.get(op)?.derivative;
        if (!derivative) throw new Error('internal: an activation stepped back before its forward pass');
        const dx = this.buffer(op, 'inputGradient', inputSize);
        this.kernels.combine('product', dy, derivative, dx);
        return dx;
      }
      case 'pool': {
        const where = pass.cache.get(op)?.where;
        if (!where) throw new Error('internal: a pool stepped back before its forward pass');
        const dx = this.buffer(op, 'inputGradient', inputSize);
        this.kernels.poolBackward(op.pool, op.input, op.output, op.size, op.stride, dy, n, dx, where);
        return dx;
      }
      case 'globalAvgPool': {
        const dx = this.buffer(op, 'inputGradient', inputSize);
        globalAvgPoolBackward(op.input, dy, n, dx);
        return dx;
      }
      case 'residual': {
        const branch = this.backwardOps(op.branch, dy, pass, true);
        const shortcut = op.shortcut.length ? this.backwardOps(op.shortcut, dy, pass, true) : dy;
        if (!needInput || !branch || !shortcut) return null;
        const dx = this.buffer(op, 'inputGradient', inputSize);
        this.kernels.combine('sum', branch, shortcut, dx);
        return dx;
      }
    }
  }

  /** A max pool's record of which input each output read. */
  private indices(op: Op, length: number): Int32Array {
    let b = this.maxIndices.get(op);
    if (!b || b.length < length) this.maxIndices.set(op, (b = new Int32Array(length)));
    return b.subarray(0, length);
  }

  manySteps(): ManyStepsLoop | null {
    return null;
  }

  /** Member k's weight layer l as its effective C_out × (k·k·C_in) matrix, fp64. */
  effectiveWeights(k: number, layer: number): Matrix & { data: Float64Array } {
    const op = this.config.plan.convs[layer];
    const m = this.scalings[layer].multiplier;
    return { rows: op.output.channels, cols: fanInOf(op), data: Float64Array.from(this.memberSlice(this.weights[layer], k), (v) => m * v) };
  }

  effectiveBiases(k: number, layer: number): Float64Array | null {
    const b = this.memberSlice(this.biases[layer], k);
    const m = this.scalings[layer].multiplier;
    return b ? Float64Array.from(b, (v) => m * v) : null;
  }

  trace(): ForwardTrace {
    throw new Error('the per-layer trace (the layers metric) is not defined for the cnn family yet');
  }

  /** The representation the readout reads, flattened channels-last: n × (C·H·W) of the last layer before it, fp64. */
  features(k: number, inputs: Matrix): Matrix & { data: Float64Array } {
    this.checkInputs(inputs);
    const ops = this.config.plan.ops.slice(0, -1);
    const cols = sizeOf(this.config.plan.features);
    const data = new Float64Array(inputs.rows * cols);
    const converted = this.inModelDtype(inputs);
    for (let n0 = 0; n0 < inputs.rows; n0 += this.chunk) {
      const rows = Math.min(this.chunk, inputs.rows - n0);
      const pass = this.memberPass(k, rows, null);
      data.set(this.forwardOps(ops, this.chunkInputs(converted, n0, rows), pass), n0 * cols);
    }
    return { rows: inputs.rows, cols, data };
  }

  /** Member k's views for a pass over n samples: its parameters (current or initial) and its gradient slices. */
  private memberPass(k: number, n: number, gradients: Gradients | null, initial = false, accumulate = false): Pass {
    // A slot's array (the values, the initial values or the gradient) of layer l, member k's part.
    const part = (arrays: (slot: number) => FloatArray, kind: 'weight' | 'bias', l: number): FloatArray | null => {
      const index = this.slotIndex(l, kind);
      return index < 0 ? null : this.memberSlice(arrays(index), k);
    };
    const values = (index: number) => (initial ? this.slots[index].initial : this.slots[index].values);
    const gradient = (index: number) => (gradients as Gradients).slots[index];
    const layers = Array.from({ length: this.layerCount }, (_, l) => l);
    return {
      n,
      weights: layers.map((l) => part(values, 'weight', l) as FloatArray),
      biases: layers.map((l) => part(values, 'bias', l)),
      gradientWeights: gradients ? layers.map((l) => part(gradient, 'weight', l) as FloatArray) : null,
      gradientBiases: gradients ? layers.map((l) => part(gradient, 'bias', l)) : null,
      accumulate,
      cache: new Map(),
    };
  }

  /**
   * (n·outputDim) × parameterCount Jacobian of member k's outputs (columns in parameters() order), by
   * one backward pass per sample and output; rows of J are never more than one sample's at a time.
   */
  jacobian(k: number, inputs: Matrix): Matrix & { data: Float64Array } {
    this.checkInputs(inputs);
    const n = inputs.rows;
    const width = this.outputDim;
    const p = this.parameterCount;
    const jac = new Float64Array(n * width * p);
    const gradients = this.allocateGradients();
    const scale = this.members[k].outputScale;
    const converted = this.inModelDtype(inputs);
    for (let i = 0; i < n; i++) {
      const pass = this.memberPass(k, 1, gradients);
      this.forwardOps(this.config.plan.ops, this.chunkInputs(converted, i, 1), pass);
      for (let c = 0; c < width; c++) {
        const unit = allocate(width, this.dtype);
        unit[c] = scale;
        this.backwardOps(this.config.plan.ops, unit, pass, false);
        jac.set(this.gradientVector(k, gradients), (i * width + c) * p);
      }
    }
    return { rows: n * width, cols: p, data: jac };
  }

  /**
   * J Jᵀ of member k, the empirical NTK, from blocks of whole samples' Jacobian rows of at most
   * JACOBIAN_BLOCK_BYTES (a deep net's J on a few hundred samples is gigabytes; its Gram is not).
   */
  ntkGram(k: number, inputs: Matrix, blockBytes = JACOBIAN_BLOCK_BYTES): Float64Array {
    const width = this.outputDim;
    const rowBytes = 8 * this.parameterCount;
    const blockSamples = Math.max(1, Math.floor(blockBytes / (rowBytes * width)));
    return blockedGram(this.backend, {
      rows: inputs.rows * width,
      cols: this.parameterCount,
      blockRows: blockSamples * width,
      block: (start, end) => this.jacobian(k, sampleRows(inputs, start / width, end / width)).data,
    });
  }
}

/** Bytes of Jacobian rows ntkGram holds at once (two blocks: the one it keeps and the one it makes again). */
export const JACOBIAN_BLOCK_BYTES = 256 * 2 ** 20;

/** Samples start … end − 1 of a matrix, a view (no copy). */
function sampleRows(m: Matrix, start: number, end: number): Matrix {
  return { rows: end - start, cols: m.cols, data: m.data.subarray(start * m.cols, end * m.cols) };
}

/** A 1×1 convolution at stride 1 without padding reads its input rows as they are (no gather). */
function isPointwise(op: ConvOp): boolean {
  return op.kernel === 1 && op.stride === 1 && op.padding === 0;
}

/** Values one sample's forward and backward pass holds: every op's output, a derivative per activation, a convolution's gathered patches. */
function valuesPerSample(ops: readonly Op[], patches: boolean): number {
  let total = 0;
  for (const op of ops) {
    total += 2 * sizeOf(op.output);
    if (patches && op.kind === 'conv' && !isPointwise(op)) total += 2 * op.output.height * op.output.width * fanInOf(op);
    if (op.kind === 'residual') total += valuesPerSample(op.branch, patches) + valuesPerSample(op.shortcut, patches);
  }
  return Math.max(1, total);
}
