/**
 * Drives a backend's many-steps-per-call training loop (`Backend.mlpTrain`, native/featlab_native.cc):
 * the same step and stop rules as the TypeScript loop in trainer.ts, with control back in TypeScript
 * only where something may happen (a recording step, a stop rule that may fire, an epoch's end, the end
 * of a time slice so Ctrl-C is seen within a fraction of a second).
 */
import type { MlpGradients, MlpTrainControl } from '../linalg/backend.js';
import type { FloatArray } from '../linalg/matrix.js';
import type { Dataset } from '../data/dataset.js';
import type { MlpEnsemble } from '../models/mlp.js';
import type { AdamState } from './optimizers.js';
import type { LossWindow } from './stopping.js';
import type { TrainingConfig } from './trainer.js';

/** A call returns at least this often, so an interrupt or a wall-clock limit is seen promptly. */
const SLICE_SECONDS = 0.2;

export interface NativeLoopState {
  readonly steps: Float64Array;
  readonly baseRates: Float64Array;
  readonly rates: readonly Float64Array[];
  readonly lossWindow: LossWindow;
  /** Sorted recording steps. */
  readonly recordSteps: readonly number[];
  readonly started: number;
}

export class NativeLoop {
  private readonly control: MlpTrainControl;
  private readonly train: (active: Uint8Array, outputs: FloatArray, losses: Float64Array, offsets: FloatArray | null) => number;
  /** Minibatch steps per call, adapted so a call lasts about one slice. */
  private budget = 16;

  constructor(
    private readonly model: MlpEnsemble,
    private readonly data: Dataset,
    private readonly config: TrainingConfig,
    gradients: MlpGradients,
    private readonly state: NativeLoopState,
    adam: AdamState | null,
  ) {
    const backend = model.backend;
    const mlpTrain = backend.mlpTrain;
    if (!mlpTrain) throw new Error('internal: NativeLoop needs a backend with mlpTrain');
    const K = model.ensembleSize;
    const L = model.layerCount;
    const stop = config.stop;
    const interpolationKind = ({ binary: 'signs', classes: 'classes', regression: 'tolerance' } as const)[data.kind];
    this.control = {
      optimizer: adam ? 'adam' : 'gd',
      rates: Float64Array.from({ length: K * L }, (_, i) => state.rates[Math.floor(i / L)][i % L]),
      ...(adam ? { first: adam.first as Float64Array[], second: adam.second as Float64Array[], adamSteps: adam.steps, ...config.adam } : {}),
      steps: state.steps,
      baseRates: state.baseRates,
      stopAt: new Float64Array(K),
      maxTime: stop.maxTime ?? Infinity,
      divergenceLoss: stop.divergenceLoss,
      targetRisk: stop.targetTrainRisk ?? NaN,
      gradientTolerance: stop.gradientTolerance ?? NaN,
      misfitKind: stop.interpolation ? interpolationKind : 'off',
      misfitTolerance: stop.interpolationTolerance,
      misfitTargets: data.targets,
      trained: Uint8Array.from(model.frozen, (f) => (f ? 0 : 1)),
      window: state.lossWindow.window,
      plateauTolerance: stop.plateau?.relativeTolerance ?? 0,
      ring: state.lossWindow.ring,
      ringCount: state.lossWindow.counts,
      yieldSeconds: SLICE_SECONDS,
      secondsLeft: Infinity,
      pending: new Uint8Array(K),
      threads: Math.max(1, backend.threads ?? 1),
      targetDim: data.targetDim,
    };
    this.train = (active, outputs, losses, offsets) =>
      mlpTrain.call(backend, model.batch, { inputs: data.inputs.data, n: data.inputs.rows, offsets, active }, config.loss, data.targets, outputs, losses, gradients, this.control);
  }

  /** Whether the loop can run this configuration. */
  static supports(model: MlpEnsemble, config: TrainingConfig): boolean {
    return model.backend.mlpTrain !== undefined && (config.optimizer === 'gd' || config.optimizer === 'sgd' || config.optimizer === 'adam');
  }

  private nextRecordStep(step: number): number {
    const steps = this.state.recordSteps;
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
    const max = this.config.stop.maxSeconds;
    return max === undefined ? Infinity : max - (performance.now() - this.state.started) / 1000;
  }

  /**
   * Full batch: pending members apply their update, then each steps until something may happen; all
   * active members return evaluated at their state (outputs, losses, gradients) with the update pending,
   * their losses already pushed to the loss window. Returns the member-steps taken.
   */
  fullBatch(active: Uint8Array, outputs: FloatArray, losses: Float64Array): number {
    const { steps } = this.state;
    const maxSteps = this.config.stop.maxSteps;
    for (let k = 0; k < steps.length; k++) {
      if (!active[k]) continue;
      // The member's next step is steps[k] + 1 if its update is pending.
      const from = steps[k] + this.control.pending[k];
      this.control.stopAt[k] = Math.min(this.nextRecordStep(from), maxSteps);
    }
    this.control.secondsLeft = this.secondsLeft();
    return this.train(active, outputs, losses, this.model.offsetsFor(this.data.inputs));
  }

  /**
   * Minibatches from `position` in `order`: steps until the epoch ends, a member reaches a recording
   * step or a step/time limit, or the call's budget is spent. Returns the steps taken (each by every
   * active member).
   */
  minibatches(active: Uint8Array, order: Int32Array, position: number, batchSize: number, offsets: FloatArray | null, outputs: FloatArray, losses: Float64Array): number {
    const { steps, baseRates } = this.state;
    const stop = this.config.stop;
    let limit = this.budget;
    for (let k = 0; k < steps.length; k++) {
      if (!active[k]) continue;
      // The loop top checks each step before it is taken: stop short of the next one that may do something.
      limit = Math.min(limit, this.nextRecordStep(steps[k] + 1) - steps[k], stop.maxSteps - steps[k]);
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
