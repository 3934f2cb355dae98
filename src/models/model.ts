/**
 * What the trainer, the metrics and the experiments ask of a model, whatever its family: an ensemble
 * of K members of one shape whose parameters are slots (one tensor of every member each), a forward
 * pass and a loss gradient over the whole ensemble, and per-member views for the diagnostics. A family
 * (src/models/mlp/ first) implements it with its own kernels.
 */
import type { Backend } from '../linalg/backend.js';
import type { Loss } from '../linalg/elementwise.js';
import type { DType, FloatArray, Matrix } from '../linalg/matrix.js';
import type { StrengthKnobs } from './strength.js';

/**
 * One parameter tensor of every member, stored member-major: member k's values are
 * values.subarray(k·size, (k + 1)·size). Optimizers, gradient flow, distances from init and
 * checkpoints go through slots instead of slicing a family's arrays by hand.
 */
export interface ParameterSlot {
  /** The weight layer it belongs to (layer-wise learning rates and frozen layers are per layer). */
  readonly layer: number;
  readonly kind: 'weight' | 'bias';
  /** K × size stored values (the parametrization's multiplier is applied in the forward pass). */
  readonly values: FloatArray;
  /** The values at initialization, same layout. */
  readonly initial: FloatArray;
  /** Entries per member. */
  readonly size: number;
  /** False for a frozen layer's slot: it keeps its initial values. */
  readonly trained: boolean;
}

/** A gradient laid out like the slots: slots[i] is the gradient of model.slots[i]. */
export interface Gradients {
  readonly slots: readonly FloatArray[];
}

/** What the members of one ensemble may differ in. */
export interface MemberConfig {
  readonly seed: number;
  /** One scale for every layer, or one per weight layer. */
  readonly initScale: number | readonly number[];
  /** alpha, the output multiplier (the feature learning strength is 1/(alpha·Π initScale): models/strength.ts). */
  readonly outputScale: number;
}

export interface ForwardTrace {
  /** Per weight layer, n × width. */
  readonly pre: Float64Array[];
  /** Hidden layers' activations σ(pre), n × width (one fewer than pre). */
  readonly post: Float64Array[];
  readonly derivative: Float64Array[];
}

/** The stop rules a many-steps kernel tests between steps (train/stopping.ts's config has these fields). */
export interface ManyStepsStop {
  /** The step budget (maxEpochs already counted in). */
  readonly maxSteps: number;
  readonly maxTime?: number;
  readonly maxSeconds?: number;
  readonly targetTrainRisk?: number;
  readonly targetTrainAccuracy?: number;
  readonly interpolation?: boolean;
  readonly interpolationTolerance: number;
  readonly plateau?: { readonly window: number; readonly relativeTolerance: number };
  readonly gradientTolerance?: number;
  readonly divergenceLoss: number;
}

/**
 * The trainer's state that a family's many-steps kernel reads and advances in place: the trainer's
 * own step rule and stop rules, taken many steps per call on a device that has such a kernel.
 */
export interface ManyStepsRequest {
  readonly inputs: Matrix;
  readonly targets: Float64Array;
  /** How the interpolation rule counts a point as fitted. */
  readonly labels: 'binary' | 'classes' | 'regression';
  readonly targetDim: number;
  readonly loss: Loss;
  readonly gradients: Gradients;
  /** Per member: steps taken (advanced in place) and base rate (time = steps × base rate). */
  readonly steps: Float64Array;
  readonly baseRates: Float64Array;
  /** rates[k][l]: member k's step size on layer l. */
  readonly rates: readonly Float64Array[];
  /** Sorted steps a call returns at: the recording steps and the stop rules' check points (window boundaries). */
  readonly returnSteps: readonly number[];
  /** performance.now() at the run's start (for maxSeconds). */
  readonly started: number;
  readonly stop: ManyStepsStop;
  /** The plateau rule's window: its length and each member's ring of losses (shared with the trainer). */
  readonly lossWindow: { readonly window: number; readonly ring: Float64Array; readonly counts: Float64Array };
  /** Adam's moments (parallel to the slots), step counts and constants; null for plain gradient steps. */
  readonly adam: { readonly first: readonly Float64Array[]; readonly second: readonly Float64Array[]; readonly steps: Float64Array; readonly beta1: number; readonly beta2: number; readonly epsilon: number } | null;
}

/** Many training steps per call: what the trainer's loop would do, up to the next point where something may happen. */
export interface ManyStepsLoop {
  /**
   * Full batch: pending members apply their update, then each steps until something may happen; all
   * active members return evaluated at their state with the update pending. Returns the member-steps taken.
   */
  fullBatch(active: Uint8Array, outputs: FloatArray, losses: Float64Array): number;
  /** Minibatches from `position` in `order`: returns the steps taken (each by every active member). */
  minibatches(active: Uint8Array, order: Int32Array, position: number, batchSize: number, offsets: FloatArray | null, outputs: FloatArray, losses: Float64Array): number;
}

export interface Model {
  /** The registered family that built it (src/models/families.ts). */
  readonly family: string;
  readonly ensembleSize: number;
  /** Weight layers, the unit of layer-wise learning rates and per-layer metrics. */
  readonly layerCount: number;
  readonly outputDim: number;
  readonly dtype: DType;
  readonly backend: Backend;
  readonly slots: readonly ParameterSlot[];
  /** Per weight layer: its parameters are not trained. */
  readonly frozen: readonly boolean[];
  /** Per weight layer: the parametrization's learning-rate factor (muP and friends). */
  readonly layerLearningRateScales: readonly number[];
  /** Trainable parameters of one member. */
  readonly parameterCount: number;

  /** K × n × outputDim outputs (only active members are computed). */
  forward(inputs: Matrix, outputs?: FloatArray, active?: Uint8Array | null): FloatArray;
  /** Mean loss per active member into losses, its gradient into gradients; offsets: f₀ on these inputs when the caller has them. */
  lossGradient(inputs: Matrix, targets: FloatArray, loss: Loss, outputs: FloatArray, losses: Float64Array, gradients: Gradients, active?: Uint8Array | null, offsets?: FloatArray | null): void;
  allocateGradients(): Gradients;
  /** K × n × outputDim values of f₀ subtracted from the outputs (the f − f₀ option), or null. */
  offsetsFor(inputs: Matrix): FloatArray | null;

  /** Member k's trainable parameters, flattened slot by slot (stored values). */
  parameters(k: number): Float64Array;
  initialParameters(k: number): Float64Array;
  setParameters(k: number, values: ArrayLike<number>): void;
  /** Runs f with member k's trainable parameters at their initial values, then restores them. */
  atInitialization<T>(k: number, f: () => T): T;
  /** ‖∇L‖₂ of member k over its trained slots, read in place. */
  gradientNorm(k: number, gradients: Gradients): number;
  /** Member k's gradient, flattened like parameters(). */
  gradientVector(k: number, gradients: Gradients): Float64Array;

  /** Member k's weight layer l as its effective (fanOut × fanIn) matrix, multiplier applied, fp64: the layer metrics' view. */
  effectiveWeights(k: number, layer: number): Matrix & { data: Float64Array };
  /** Member k's effective biases of layer l, or null for a layer without. */
  effectiveBiases(k: number, layer: number): Float64Array | null;
  /** Member k's pre-activations of every layer and post-activations of every hidden layer on these inputs, fp64. */
  trace(k: number, inputs: Matrix): ForwardTrace;
  /** The representation feeding the last layer for member k: n × width, fp64. */
  features(k: number, inputs: Matrix): Matrix & { data: Float64Array };
  /** (n·outputDim) × parameterCount Jacobian of member k's outputs, columns in parameters() order. */
  jacobian(k: number, inputs: Matrix): Matrix & { data: Float64Array };
  /** J Jᵀ of member k over these inputs, the empirical NTK. */
  ntkGram(k: number, inputs: Matrix): Float64Array;
  /** The knobs that set member k's feature learning strength (models/strength.ts). */
  strengthKnobs(k: number): StrengthKnobs;
  /** A many-steps kernel for this training on this device, or null where there is none (the trainer then steps itself). */
  manySteps(request: ManyStepsRequest): ManyStepsLoop | null;
}

/** Visits the slice of every trained slot of each active member, in slot order. */
export function forEachTrainedSlice(model: Model, active: Uint8Array, visit: (slot: ParameterSlot, index: number, k: number, start: number, end: number) => void): void {
  model.slots.forEach((slot, index) => {
    if (!slot.trained) return;
    for (let k = 0; k < model.ensembleSize; k++) if (active[k]) visit(slot, index, k, k * slot.size, (k + 1) * slot.size);
  });
}
