/**
 * Gradient flow dθ/dt = −P ∇L(θ) (P: the layer-wise rates), integrated by an adaptive Dormand–Prince
 * RK5(4) scheme with per-member step-size control, for the whole ensemble at once.
 */
import { z } from 'zod';
import { allocate, type FloatArray } from '../linalg/matrix.js';
import type { Gradients, Model } from '../models/model.js';
import type { Dataset } from '../data/dataset.js';
import { countSteps, throwIfInterrupted } from './interrupt.js';
import type { TrainingConfig } from './trainer.js';

const positive = z.number().positive().finite();

/** The integrator's error control, the spec's `training.gradientFlow`: relative and absolute local error per step, and the largest step. */
export const gradientFlowSchema = z.strictObject({ tolerance: positive.default(1e-4), absoluteTolerance: positive.default(1e-12), maxStep: positive.default(Infinity) });
export type GradientFlowConfig = z.output<typeof gradientFlowSchema>;

// Dormand & Prince (1980) RK5(4) tableau, first-same-as-last.
const DP_A: readonly (readonly number[])[] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
const DP_ERROR = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];

/** Integrates dθ/dt = −P ∇L(θ) (P: layer-wise rates) with per-member adaptive steps. */
export class GradientFlowIntegrator {
  private readonly K: number;
  private readonly slots: { param: FloatArray; grad: FloatArray; size: number; layer: number }[] = [];

  constructor(
    private readonly model: Model,
    private readonly train: Dataset,
    private readonly config: TrainingConfig,
    private readonly gradients: Gradients,
    private readonly rates: readonly Float64Array[],
    private readonly initialSteps: Float64Array,
  ) {
    this.K = model.ensembleSize;
    model.slots.forEach((slot, index) => {
      if (slot.trained) this.slots.push({ param: slot.values, grad: gradients.slots[index], size: slot.size, layer: slot.layer });
    });
  }

  /**
   * onAccepted receives the outputs and losses at each member's newly accepted point (or the start)
   * and the member's time there (−1 for members that did not move); it returns the active mask.
   */
  integrate(onAccepted: (outputs: FloatArray, losses: Float64Array, times: Float64Array) => Uint8Array, steps: Float64Array): void {
    const { model, train, config } = this;
    const n = train.inputs.rows;
    const outputs = allocate(this.K * n * model.outputDim, model.dtype);
    const stageOutputs = allocate(outputs.length, model.dtype);
    const losses = new Float64Array(this.K);
    const stageLosses = new Float64Array(this.K);
    const base = this.slots.map((s) => Float64Array.from(s.param));
    const stages = Array.from({ length: 7 }, () => this.slots.map((s) => new Float64Array(s.param.length)));
    const h = Float64Array.from(this.initialSteps);
    const times = new Float64Array(this.K);
    const { tolerance, absoluteTolerance, maxStep } = config.gradientFlow;
    const maxTime = config.stop.maxTime ?? Infinity;

    const evaluateStage = (stage: number, mask: Uint8Array, intoOutputs: FloatArray, intoLosses: Float64Array) => {
      model.lossGradient(train.inputs, train.targets, config.loss, intoOutputs, intoLosses, this.gradients, mask);
      this.slots.forEach((slot, s) => {
        const target = stages[stage][s];
        for (let k = 0; k < this.K; k++) {
          if (!mask[k]) continue;
          const r = this.rates[k][slot.layer];
          for (let i = k * slot.size; i < (k + 1) * slot.size; i++) target[i] = -r * slot.grad[i];
        }
      });
    };

    let active: Uint8Array = Uint8Array.from({ length: this.K }, () => 1);
    evaluateStage(0, active, outputs, losses);
    active = onAccepted(outputs, losses, times);
    while (active.some((a) => a === 1)) {
      throwIfInterrupted();
      countSteps(active.reduce((a, b) => a + b, 0));
      const mask = Uint8Array.from(active);
      for (let k = 0; k < this.K; k++) if (mask[k]) h[k] = Math.min(h[k], maxStep, Math.max(maxTime - times[k], 0) || Infinity);
      for (let stage = 1; stage < 7; stage++) {
        this.slots.forEach((slot, s) => {
          for (let k = 0; k < this.K; k++) {
            if (!mask[k]) continue;
            for (let i = k * slot.size; i < (k + 1) * slot.size; i++) {
              let v = base[s][i];
              for (let j = 0; j < stage; j++) v += h[k] * DP_A[stage][j] * stages[j][s][i];
              slot.param[i] = v;
            }
          }
        });
        evaluateStage(stage, mask, stage === 6 ? stageOutputs : outputs, stage === 6 ? stageLosses : losses);
      }
      // Error estimate: RMS of h Σ e_j k_j against atol + rtol·RMS(θ), per member. A norm of the whole
      // vector (not per coordinate) keeps coordinates that sit near zero from forcing tiny steps.
      const movedTimes = new Float64Array(this.K).fill(-1);
      for (let k = 0; k < this.K; k++) {
        if (!mask[k]) continue;
        let errorSum = 0;
        let normSum = 0;
        let count = 0;
        this.slots.forEach((slot, s) => {
          for (let i = k * slot.size; i < (k + 1) * slot.size; i++) {
            let e = 0;
            for (let j = 0; j < 7; j++) e += DP_ERROR[j] * stages[j][s][i];
            errorSum += h[k] * e * h[k] * e;
            normSum += Math.max(base[s][i] * base[s][i], slot.param[i] * slot.param[i]);
            count++;
          }
        });
        const error = count > 0 ? Math.sqrt(errorSum / count) / (absoluteTolerance + tolerance * Math.sqrt(normSum / count)) : 0;
        const accepted = error <= 1;
        const factor = Number.isFinite(error) ? Math.min(5, Math.max(0.2, 0.9 * Math.pow(Math.max(error, 1e-10), -0.2))) : 0.2;
        if (accepted) {
          times[k] += h[k];
          movedTimes[k] = times[k];
          steps[k]++;
          losses[k] = stageLosses[k];
          const size = outputs.length / this.K;
          outputs.set(stageOutputs.subarray(k * size, (k + 1) * size), k * size);
          this.slots.forEach((slot, s) => {
            for (let i = k * slot.size; i < (k + 1) * slot.size; i++) {
              base[s][i] = slot.param[i];
              stages[0][s][i] = stages[6][s][i];
            }
          });
        } else {
          this.slots.forEach((slot, s) => slot.param.set(base[s].subarray(k * slot.size, (k + 1) * slot.size), k * slot.size));
          // Steps are retried smaller; one that must shrink to nothing means the flow blew up.
          if (h[k] * factor < 1e-14 * Math.max(1, times[k])) losses[k] = NaN;
        }
        h[k] *= factor;
      }
      // Members whose step was rejected are not re-checked (their state did not change).
      const checked = Uint8Array.from(active, (a, k) => (a && (movedTimes[k] >= 0 || Number.isNaN(losses[k])) ? 1 : 0));
      if (checked.some((c) => c === 1)) {
        const saved = Uint8Array.from(active);
        for (let k = 0; k < this.K; k++) if (!checked[k]) active[k] = 0;
        const after = onAccepted(outputs, losses, movedTimes);
        for (let k = 0; k < this.K; k++) active[k] = checked[k] ? after[k] : saved[k];
      }
    }
  }
}
