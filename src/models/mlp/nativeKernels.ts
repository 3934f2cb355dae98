/**
 * The MLP family's kernels on the native device: the addon's fused passes (native/mlp_kernels.h),
 * each call's objects and codes as native/abi.json lists them (nativeAbi.ts checks the types).
 */
import type { Backend } from '../../linalg/backend.js';
import type { Loss } from '../../linalg/elementwise.js';
import type { FloatArray } from '../../linalg/matrix.js';
import { NativeBackend } from '../../linalg/nativeBackend.js';
import type { MlpBatch, MlpEvaluation, MlpGradients, MlpKernels, MlpTrainControl } from './kernels.js';

/** The addon's MLP functions (the device's generic ones are typed in src/linalg/nativeBackend.ts). */
export interface MlpAddon {
  /** loss null: a forward pass only. */
  mlpRun(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss | null, targets: FloatArray | null, outputs: FloatArray, losses: Float64Array | null, gradients: MlpGradients | null): void;
  mlpTrain(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients, control: MlpTrainControl): number;
  mlpNtkGram(batch: MlpBatch, member: number, inputs: FloatArray, n: number, trainFirst: boolean, trainSecond: boolean): Float64Array;
}

/** The MLP kernels of the native device's addon (loaded once, by the device). */
export function nativeMlpKernels(device: Backend): NativeMlpKernels | Error {
  // The addon's module exports the MLP functions beside the device's; NativeAddon types only the latter.
  return device instanceof NativeBackend ? new NativeMlpKernels(device.addon as unknown as MlpAddon) : new Error(`a device named native that is not the addon's (${device.constructor.name})`);
}

/** An evaluation's fields, written anew for each call into one object. */
type ReusedEvaluation = { -readonly [K in keyof MlpEvaluation]: MlpEvaluation[K] };

export class NativeMlpKernels implements MlpKernels {
  /**
   * The one evaluation object every call passes: the addon checks an object's fields against
   * native/abi.json once and tags it, so a fresh object per call would be checked at every step (about
   * 3 µs, half of a small net's whole pass).
   */
  private readonly evaluation: ReusedEvaluation = { inputs: new Float64Array(0), n: 0, offsets: null, active: null };

  constructor(readonly addon: MlpAddon) {}

  private reused(evaluation: MlpEvaluation): MlpEvaluation {
    const e = this.evaluation;
    e.inputs = evaluation.inputs;
    e.n = evaluation.n;
    e.offsets = evaluation.offsets;
    e.active = evaluation.active;
    return e;
  }

  forward(batch: MlpBatch, evaluation: MlpEvaluation, outputs: FloatArray): void {
    this.addon.mlpRun(batch, this.reused(evaluation), null, null, outputs, null, null);
  }

  lossGradient(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients): void {
    this.addon.mlpRun(batch, this.reused(evaluation), loss, targets, outputs, losses, gradients);
  }

  trainSteps(batch: MlpBatch, evaluation: MlpEvaluation, loss: Loss, targets: FloatArray, outputs: FloatArray, losses: Float64Array, gradients: MlpGradients, control: MlpTrainControl): number {
    return this.addon.mlpTrain(batch, this.reused(evaluation), loss, targets, outputs, losses, gradients, control);
  }

  ntkGram(batch: MlpBatch, member: number, inputs: FloatArray, n: number, trainFirst: boolean, trainSecond: boolean): Float64Array {
    return this.addon.mlpNtkGram(batch, member, inputs, n, trainFirst, trainSecond);
  }
}
