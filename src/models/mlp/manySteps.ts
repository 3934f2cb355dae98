/**
 * The MLP family's many-steps kernel (`MlpKernels.trainSteps`, native/step_loop.h) driven for the
 * trainer: the trainer's own step and stop rules (src/train/trainer.ts), with control back in TypeScript
 * only where something may happen (a recording step, a stop rule that may fire, an epoch's end, the end
 * of a time slice so Ctrl-C is seen within a fraction of a second).
 */
import type { FloatArray } from '../../linalg/matrix.js';
import type { ManyStepsLoop, ManyStepsRequest } from '../model.js';
import type { MlpEnsemble, MlpEnsembleGradients } from './ensemble.js';
import type { MlpTrainControl } from './kernels.js';

/** A call returns at least this often, so an interrupt or a wall-clock limit is seen promptly. */
const SLICE_SECONDS = 0.2;

export class MlpManySteps implements ManyStepsLoop {
  private readonly control: MlpTrainControl;
  private readonly train: (active: Uint8Array, outputs: FloatArray, losses: Float64Array, offsets: FloatArray | null) => number;
  /** Minibatch steps per call, adapted so a call lasts about one slice. */
  private budget = 16;

  constructor(
    private readonly model: MlpEnsemble,
    private readonly request: ManyStepsRequest,
    gradients: MlpEnsembleGradients,
    trainSteps: NonNullable<MlpEnsemble['kernels']['trainSteps']>,
  ) {
    const backend = model.backend;
    const K = model.ensembleSize;
    const L = model.layerCount;
    const { stop, adam, lossWindow } = request;
    const interpolationKind = ({ binary: 'signs', classes: 'classes', regression: 'tolerance' } as const)[request.labels];
    this.control = {
      optimizer: adam ? 'adam' : 'gd',
      rates: Float64Array.from({ length: K * L }, (_, i) => request.rates[Math.floor(i / L)][i % L]),
      ...(adam ? { first: byLayerAndKind(model, adam.first), second: byLayerAndKind(model, adam.second), adamSteps: adam.steps, beta1: adam.beta1, beta2: adam.beta2, epsilon: adam.epsilon } : {}),
      steps: request.steps,
      baseRates: request.baseRates,
      stopAt: new Float64Array(K),
      maxTime: stop.maxTime ?? Infinity,
      divergenceLoss: stop.divergenceLoss,
      targetRisk: stop.targetTrainRisk ?? NaN,
      gradientTolerance: stop.gradientTolerance ?? NaN,
      misfitKind: stop.interpolation || stop.targetTrainAccuracy !== undefined ? interpolationKind : 'off',
      misfitTolerance: stop.interpolationTolerance,
      // Points that may stay misfitted when the loop hands back (early by the slack, never late).
      misfitAllowed: stop.interpolation ? 0 : Math.floor((1 - (stop.targetTrainAccuracy ?? 1)) * request.inputs.rows + 1e-6),
      misfitTargets: request.targets,
      trained: Uint8Array.from(model.frozen, (f) => (f ? 0 : 1)),
      window: lossWindow.window,
      plateauTolerance: stop.plateau?.relativeTolerance ?? 0,
      ring: lossWindow.ring,
      ringCount: lossWindow.counts,
      yieldSeconds: SLICE_SECONDS,
      secondsLeft: Infinity,
      pending: new Uint8Array(K),
      threads: Math.max(1, backend.threads ?? 1),
      targetDim: request.targetDim,
    };
    const data = request.inputs;
    this.train = (active, outputs, losses, offsets) =>
      trainSteps(model.batch, { inputs: data.data, n: data.rows, offsets, active }, request.loss, request.targets, outputs, losses, gradients, this.control);
  }

  private nextReturnStep(step: number): number {
    const steps = this.request.returnSteps;
    let lo = 0;
    let hi = steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid] < step) lo = mid + 1;
      else hi = mid;
    }
    return lo < steps.length ? steps[lo] : Infinity;
  }

  private secondsLeft(): number {
    const max = this.request.stop.maxSeconds;
    return max === undefined ? Infinity : max - (performance.now() - this.request.started) / 1000;
  }

  /**
   * Full batch: pending members apply their update, then each steps until something may happen; all
   * active members return evaluated at their state (outputs, losses, gradients) with the update pending,
   * their losses already pushed to the loss window. Returns the member-steps taken.
   */
  fullBatch(active: Uint8Array, outputs: FloatArray, losses: Float64Array): number {
    const { steps } = this.request;
    const maxSteps = this.request.stop.maxSteps;
    for (let k = 0; k < steps.length; k++) {
      if (!active[k]) continue;
      // The member's next step is steps[k] + 1 if its update is pending.
      const from = steps[k] + this.control.pending[k];
      this.control.stopAt[k] = Math.min(this.nextReturnStep(from), maxSteps);
    }
    this.control.secondsLeft = this.secondsLeft();
    return this.train(active, outputs, losses, this.model.offsetsFor(this.request.inputs));
  }

  /**
   * Minibatches from `position` in `order`: steps until the epoch ends, a member reaches a recording
   * step or a step/time limit, or the call's budget is spent. Returns the steps taken (each by every
   * active member).
   */
  minibatches(active: Uint8Array, order: Int32Array, position: number, batchSize: number, offsets: FloatArray | null, outputs: FloatArray, losses: Float64Array): number {
    const { steps, baseRates, stop } = this.request;
    let limit = this.budget;
    for (let k = 0; k < steps.length; k++) {
      if (!active[k]) continue;
      // The loop top checks each step before it is taken: stop short of the next one that may do something.
      limit = Math.min(limit, this.nextReturnStep(steps[k] + 1) - steps[k], stop.maxSteps - steps[k]);
      if (stop.maxTime !== undefined) {
        let j = Math.max(1, Math.floor(stop.maxTime / baseRates[k] - steps[k]) - 1);
        while (j > 1 && (steps[k] + j - 1) * baseRates[k] >= stop.maxTime) j--;
        while (j < limit && (steps[k] + j) * baseRates[k] < stop.maxTime) j++;
        limit = Math.min(limit, j);
      }
    }
    this.control.order = order;
    this.control.position = position;
    this.control.stepBudget = Math.max(1, limit);
    this.control.batchSize = batchSize;
    const started = performance.now();
    const taken = this.train(active, outputs, losses, offsets);
    const seconds = (performance.now() - started) / 1000;
    // Aim at one slice per call: grow the budget while calls are short, shrink it when long.
    if (taken >= this.budget && seconds < SLICE_SECONDS / 2) this.budget = Math.min(this.budget * 2, 1 << 20);
    else if (seconds > SLICE_SECONDS * 2) this.budget = Math.max(1, Math.floor(this.budget / 2));
    return taken;
  }
}

/** Arrays parallel to the model's slots, laid out as the kernel reads them: layer l's weights at 2l, its biases at 2l + 1 (empty where absent). */
function byLayerAndKind(model: MlpEnsemble, arrays: readonly Float64Array[]): Float64Array[] {
  const out: Float64Array[] = Array.from({ length: 2 * model.layerCount }, () => new Float64Array(0));
  model.slots.forEach((slot, index) => {
    out[2 * slot.layer + (slot.kind === 'bias' ? 1 : 0)] = arrays[index];
  });
  return out;
}
