/**
 * The one table of model cases that the gradient suite (test/models/gradients.test.ts), the device
 * conformance of the family's kernels (test/models/mlp/nativeKernels.test.ts) and the trainer
 * equivalence (test/models/mlp/manySteps.test.ts) all read: families × depths × activations ×
 * parametrizations × biases × losses, with the special inits, frozen layers, f − f₀ and ensembles of
 * differing members. A new family or option adds its rows here and every suite covers it.
 */
import { ACTIVATIONS, type Loss } from '../src/linalg/elementwise.js';
import type { MlpConfig } from '../src/models/mlp/index.js';
import type { MemberConfig } from '../src/models/model.js';
import { PARAMETRIZATIONS } from '../src/models/parametrization.js';
import { member, smallConfig } from './models/fixtures.js';

export interface ModelCase {
  readonly name: string;
  readonly family: 'mlp';
  readonly config: MlpConfig;
  readonly members: readonly MemberConfig[];
  readonly loss: Loss;
  /** The member whose gradient the finite-difference check reads. */
  readonly checkedMember: number;
  /** Moves the parameters this far off their init first (f − f₀ is zero at init). */
  readonly perturb: number;
}

export const DTYPES = ['float64', 'float32'] as const;
export const DEVICES = ['ts', 'native'] as const;

function modelCase(name: string, config: Partial<MlpConfig>, members: MemberConfig[], loss: Loss, extra: Partial<Pick<ModelCase, 'checkedMember' | 'perturb'>> = {}): ModelCase {
  return { name, family: 'mlp', config: smallConfig(config), members, loss, checkedMember: 0, perturb: 0, ...extra };
}

export const MODEL_CASES: readonly ModelCase[] = [
  ...[[5], [4, 3, 5]].flatMap((hiddenWidths) =>
    ACTIVATIONS.flatMap((activation) =>
      PARAMETRIZATIONS.flatMap((parametrization) =>
        [false, true].map((bias) =>
          modelCase(`${hiddenWidths.length + 1}-layer ${activation} ${parametrization}${bias ? ' with bias' : ''}, square loss`, { hiddenWidths, activation, parametrization, bias, outputDim: 2 }, [member(1, { initScale: 1.3, outputScale: 0.7 })], 'square'),
        ),
      ),
    ),
  ),
  modelCase('logistic loss', { activation: 'swish', bias: true }, [member(2)], 'logistic'),
  modelCase('cross-entropy loss with 4 classes', { hiddenWidths: [6, 4], outputDim: 4, activation: 'relu' }, [member(3)], 'crossEntropy'),
  modelCase('f − f₀ after the parameters moved', { centerOutput: true, activation: 'sigmoid', bias: true }, [member(4, { outputScale: 0.25 })], 'square', { perturb: 0.3 }),
  modelCase('balanced init', { init: 'balanced', activation: 'relu', bias: true }, [member(5, { initScale: 0.5 })], 'logistic'),
  modelCase('fixed-sign output weights (frozen)', { init: 'fixedSigns', activation: 'leakyRelu' }, [member(6)], 'square'),
  modelCase('a frozen first layer of a deep net', { hiddenWidths: [4, 4], frozenLayers: [0], activation: 'tanh' }, [member(7)], 'square'),
  modelCase(
    'per-layer init scales, member 2 of an ensemble of 3',
    { hiddenWidths: [5, 4], activation: 'swish', parametrization: 'muP', bias: true },
    [member(8), member(9, { initScale: [0.5, 2, 1], outputScale: 3 }), member(10, { initScale: [2, 0.5, 1], outputScale: 0.2 })],
    'square',
    { checkedMember: 2 },
  ),
];
