/**
 * Step rules on the ensemble's flat parameters. Each is init (state) + update (in place), applied to
 * active members only; rates[k][l] is member k's step size on layer l (0 for a frozen layer).
 */
import type { MlpGradients } from '../linalg/backend.js';
import type { FloatArray } from '../linalg/matrix.js';
import type { MlpEnsemble } from '../models/mlp.js';

/** The discrete step rules by name (STEP_RULES below), and gradient flow (integrated: gradientFlow.ts). */
export const OPTIMIZERS = ['gd', 'sgd', 'adam', 'gradientFlow'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type StepRuleName = Exclude<OptimizerName, 'gradientFlow'>;

export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** Visits each (parameter array, gradient array, member slice) of active members. */
export function forEachSlice(
  model: MlpEnsemble,
  gradients: MlpGradients,
  active: Uint8Array,
  visit: (param: FloatArray, grad: FloatArray, start: number, end: number, k: number, layer: number, slot: number) => void,
): void {
  const K = model.ensembleSize;
  for (let l = 0; l < model.layerCount; l++) {
    const pairs: [FloatArray, FloatArray | null][] = [[model.batch.weights[l], gradients.weights[l]]];
    const b = model.batch.biases[l];
    if (b) pairs.push([b, gradients.biases[l]]);
    pairs.forEach(([param, grad], slot) => {
      if (!grad) return;
      const size = param.length / K;
      for (let k = 0; k < K; k++) if (active[k]) visit(param, grad, k * size, (k + 1) * size, k, l, 2 * l + slot);
    });
  }
}

export function gradientDescentUpdate(model: MlpEnsemble, gradients: MlpGradients, active: Uint8Array, rates: readonly Float64Array[]): void {
  forEachSlice(model, gradients, active, (param, grad, start, end, k, l) => {
    const r = rates[k][l];
    if (r === 0) return;
    for (let i = start; i < end; i++) param[i] -= r * grad[i];
  });
}

export class AdamState {
  readonly first: FloatArray[];
  readonly second: FloatArray[];
  readonly steps: Float64Array;

  constructor(model: MlpEnsemble) {
    const arrays = model.batch.weights.flatMap((w, l) => [w, model.batch.biases[l]]);
    this.first = arrays.map((a) => new Float64Array(a ? a.length : 0));
    this.second = arrays.map((a) => new Float64Array(a ? a.length : 0));
    this.steps = new Float64Array(model.ensembleSize);
  }
}

/** Kingma & Ba 2015, with bias correction; rates play the role of the learning rate. */
export function adamUpdate(model: MlpEnsemble, gradients: MlpGradients, active: Uint8Array, rates: readonly Float64Array[], state: AdamState, config: AdamConfig): void {
  for (let k = 0; k < model.ensembleSize; k++) if (active[k]) state.steps[k]++;
  const { beta1, beta2, epsilon } = config;
  forEachSlice(model, gradients, active, (param, grad, start, end, k, l, slot) => {
    const r = rates[k][l];
    if (r === 0) return;
    const m = state.first[slot];
    const v = state.second[slot];
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
 * members. `adam` is the state's kind for a native loop (native/featlab_native.cc implements the same
 * two updates).
 */
export interface StepRule {
  readonly init: (model: MlpEnsemble) => AdamState | null;
  readonly update: (model: MlpEnsemble, gradients: MlpGradients, active: Uint8Array, rates: readonly Float64Array[], state: AdamState | null, config: AdamConfig) => void;
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
