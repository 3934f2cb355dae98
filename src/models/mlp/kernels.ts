/**
 * The MLP family's kernels: the fused forward/backward pass of a whole ensemble, and where a device
 * has them, many training steps per call and the two-layer NTK Gram. Each device's implementation is
 * registered here by name; a device without one gets the generic path over its gemm and elementwise
 * operations (tsKernels.ts), which is also the ts device's own.
 */
import type { Backend } from '../../linalg/backend.js';
import type { Activation, Loss } from '../../linalg/elementwise.js';
import type { FloatArray } from '../../linalg/matrix.js';
import { nativeMlpKernels } from './nativeKernels.js';
import { TsMlpKernels } from './tsKernels.js';

/** K fully connected nets of one shape, as flat parameter arrays (member-major). */
export interface MlpBatch {
  /** Layer widths [d, n_1, …, n_L]; L = widths.length − 1 weight layers. */
  readonly widths: readonly number[];
  readonly ensembleSize: number;
  readonly activation: Activation;
  /** Negative-side slope for leakyRelu. */
  readonly leak: number;
  /** Per weight layer: the effective weight is multiplier × stored weight (parametrization). */
  readonly multipliers: Float64Array;
  /** Layer l: ensembleSize × widths[l+1] × widths[l]. */
  readonly weights: FloatArray[];
  /** Layer l: ensembleSize × widths[l+1], or null for a layer without bias. */
  readonly biases: (FloatArray | null)[];
  /** Per member: the network output is multiplied by it (with the init scales it sets the feature learning strength, models/strength.ts). */
  readonly outputScale: Float64Array;
}

/** Gradients laid out exactly like the parameters of an MlpBatch. */
export interface MlpGradients {
  readonly weights: FloatArray[];
  readonly biases: (FloatArray | null)[];
}

export interface MlpEvaluation {
  readonly inputs: FloatArray;
  readonly n: number;
  /** K × n × widths[L] values subtracted from the outputs (the f − f₀ option), or null. */
  readonly offsets: FloatArray | null;
  /** Members to compute; the others are left untouched. null means all. */
  readonly active: Uint8Array | null;
}


/**
 * What a many-steps training call (`MlpKernels.trainSteps`) needs besides the net and the data: the step rule,
 * the state it updates in place, and the stop rules it tests (manySteps.ts fills it). Its
 * fields and codes are those of native/abi.json (checked by nativeAbi.ts); every rule is
 * written out, NaN or Infinity where it is off.
 */
export interface MlpTrainControl {
  readonly optimizer: 'gd' | 'adam';
  /** K × layers step sizes (0 for a frozen layer). */
  readonly rates: Float64Array;
  /** Adam's moments per slot (weights of layer l at 2l, its biases at 2l + 1; empty where absent) and step counts. */
  readonly first?: readonly Float64Array[];
  readonly second?: readonly Float64Array[];
  readonly adamSteps?: Float64Array;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** Per member: steps taken (updated), base rate (time = steps × base rate), the step to return at. */
  readonly steps: Float64Array;
  readonly baseRates: Float64Array;
  readonly stopAt: Float64Array;
  readonly maxTime: number;
  readonly divergenceLoss: number;
  /** NaN when the rule is off. */
  readonly targetRisk: number;
  readonly gradientTolerance: number;
  /** The interpolation and target accuracy rules: off, signs of ±1 labels, class indices, or |f − y| ≤ misfitTolerance. */
  readonly misfitKind: 'off' | 'signs' | 'classes' | 'tolerance';
  readonly misfitTolerance: number;
  /** Misfitted points that still count as the rule met (0 for interpolation). */
  readonly misfitAllowed: number;
  readonly misfitTargets: Float64Array;
  /** Per layer, 1 when trained. */
  readonly trained: Uint8Array;
  /** Plateau rule: window (0 off), tolerance, and the losses of each member in a ring (LossWindow). */
  readonly window: number;
  readonly plateauTolerance: number;
  readonly ring: Float64Array;
  readonly ringCount: Float64Array;
  /** Wall-clock slice of one call, and what is left of the run's maxSeconds. */
  readonly yieldSeconds: number;
  secondsLeft: number;
  /** Per member, 1 when it returned evaluated with its update not yet applied (full batch). */
  readonly pending: Uint8Array;
  /** Members trained in parallel threads (the BLAS single-threaded meanwhile). */
  readonly threads: number;
  /** Minibatches: the epoch's order, the position in it, the batch size, the most steps to take. */
  order?: Int32Array;
  position?: number;
  batchSize?: number;
  stepBudget?: number;
  readonly targetDim: number;
}

export interface MlpKernels {
  /** Outputs (K × n × widths[L]) of every active member. */
  forward(batch: MlpBatch, evaluation: MlpEvaluation, outputs: FloatArray): void;
  /**
   * Mean loss of every active member into losses[k] and its gradient into gradients; outputs
   * (K × n × widths[L]) receives the outputs the loss was computed on.
   */
  lossGradient(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients): void;
  /**
   * Many training steps in one call (a device may lack it: the trainer then steps in TypeScript).
   * Full batch (no `control.order`): every active member first applies its pending update, then steps
   * until a stop rule may fire, a recording step, or the time slice ends, and returns evaluated
   * (outputs, losses, gradients at its state) and pending. Minibatches: steps along the order to the
   * epoch's end or the budget. Returns the member-steps taken.
   */
  trainSteps?(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients, control: MlpTrainControl): number;
  /**
   * J Jᵀ of member k of a two-layer net over n input rows ((n·outputs)², MlpEnsemble.ntkGram's layout
   * and formula); trainFirst/trainSecond say which weight layers are trained. Optional: the model
   * computes it itself otherwise.
   */
  ntkGram?(batch: MlpBatch, member: number, inputs: FloatArray, n: number, trainFirst: boolean, trainSecond: boolean): Float64Array;
}

/** Each device's MLP kernels by the device's name; others fall back to the generic path. */
const KERNELS: Readonly<Record<string, (device: Backend) => MlpKernels | Error>> = {
  ts: (device) => new TsMlpKernels(device),
  native: nativeMlpKernels,
};

const built = new WeakMap<Backend, MlpKernels>();

/** The MLP kernels of a device (built once per device object). */
export function mlpKernelsFor(device: Backend): MlpKernels {
  let kernels = built.get(device);
  if (!kernels) {
    const registered = KERNELS[device.name]?.(device);
    if (registered instanceof Error) throw new Error(`the ${device.name} device has no MLP kernels: ${registered.message}`);
    kernels = registered ?? new TsMlpKernels(device);
    built.set(device, kernels);
  }
  return kernels;
}
