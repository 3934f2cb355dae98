/**
 * Step rules on a model's parameter slots. Each is init (state) + update (in place), applied to the
 * trained slots of active members only; rates[k][l] is member k's step size on layer l.
 */
import { z } from 'zod';
import type { FloatArray } from '../linalg/matrix.js';
import { forEachTrainedSlice, type Gradients, type Model } from '../models/model.js';

/** The discrete step rules by name (STEP_RULES below), and gradient flow (integrated: gradientFlow.ts). */
export const OPTIMIZERS = ['gd', 'sgd', 'adam', 'gradientFlow'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type StepRuleName = Exclude<OptimizerName, 'gradientFlow'>;

/** Adam's constants, the spec's `training.adam`. */
export const adamSchema = z.strictObject({ beta1: z.number().min(0).lt(1).default(0.9), beta2: z.number().min(0).lt(1).default(0.999), epsilon: z.number().positive().finite().default(1e-8) });
export type AdamConfig = z.output<typeof adamSchema>;

export function gradientDescentUpdate(model: Model, gradients: Gradients, active: Uint8Array, rates: readonly Float64Array[]): void {
  forEachTrainedSlice(model, active, (slot, index, k, start, end) => {
    const r = rates[k][slot.layer];
    if (r === 0) return;
    const param = slot.values;
    const grad = gradients.slots[index];
    for (let i = start; i < end; i++) param[i] -= r * grad[i];
  });
}

/** Adam's moments, one array per slot of the model (same layout), and each member's step count. */
export class AdamState {
  readonly first: Float64Array[];
  readonly second: Float64Array[];
  readonly steps: Float64Array;

  constructor(model: Model) {
    this.first = model.slots.map((slot) => new Float64Array(slot.values.length));
    this.second = model.slots.map((slot) => new Float64Array(slot.values.length));
    this.steps = new Float64Array(model.ensembleSize);
  }
}

/** Kingma & Ba 2015, with bias correction; rates play the role of the learning rate. */
export function adamUpdate(model: Model, gradients: Gradients, active: Uint8Array, rates: readonly Float64Array[], state: AdamState, config: AdamConfig): void {
  for (let k = 0; k < model.ensembleSize; k++) if (active[k]) state.steps[k]++;
  const { beta1, beta2, epsilon } = config;
  forEachTrainedSlice(model, active, (slot, index, k, start, end) => {
    const r = rates[k][slot.layer];
    if (r === 0) return;
    const param = slot.values;
    const grad: FloatArray = gradients.slots[index];
    const m = state.first[index];
    const v = state.second[index];
    const c1 = 1 - beta1 ** state.steps[k];
    const c2 = 1 - beta2 ** state.steps[k];
    for (let i = start; i < end; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
      v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
      param[i] -= (r * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + epsilon);
    }
  });
}

/**
 * A step rule: its state for a model (null when it has none) and its in-place update of the active
 * members. `adam` is the state's kind for a native loop (native/step_loop.h implements the same
 * two updates).
 */
export interface StepRule {
  readonly init: (model: Model) => AdamState | null;
  readonly update: (model: Model, gradients: Gradients, active: Uint8Array, rates: readonly Float64Array[], state: AdamState | null, config: AdamConfig) => void;
}

const plainStep: StepRule = { init: () => null, update: (model, gradients, active, rates) => gradientDescentUpdate(model, gradients, active, rates) };

/** Every discrete optimizer's step rule; sgd is gd's rule on minibatches. */
export const STEP_RULES: Readonly<Record<StepRuleName, StepRule>> = {
  gd: plainStep,
  sgd: plainStep,
  adam: {
    init: (model) => new AdamState(model),
    update: (model, gradients, active, rates, state, config) => {
      if (!state) throw new Error('internal: adam without its state');
      adamUpdate(model, gradients, active, rates, state, config);
    },
  },
};
