/**
 * The one table of model cases that the gradient suite (test/models/gradients.test.ts), the device
 * conformance of the families' kernels (test/models/mlp/nativeKernels.test.ts, test/models/cnn/cnn.test.ts)
 * and the trainer equivalence (test/models/mlp/manySteps.test.ts) all read: families × depths ×
 * activations × parametrizations × biases × losses (× layer kinds, strides, paddings and pools for the
 * convolutional family), with the special inits, frozen layers, f − f₀ and ensembles of differing
 * members. A new family or option adds its rows here and every suite covers it.
 */
import { ACTIVATIONS, type Loss } from '../src/linalg/elementwise.js';
import type { Backend } from '../src/linalg/backend.js';
import type { DType } from '../src/linalg/matrix.js';
import { cnnFamily, cnnModelSchema, type CnnModelSpec } from '../src/models/cnn/index.js';
import { MlpEnsemble, type MlpConfig } from '../src/models/mlp/index.js';
import type { MemberConfig, Model } from '../src/models/model.js';
import { PARAMETRIZATIONS } from '../src/models/parametrization.js';
import { member, smallConfig } from './models/fixtures.js';

interface CaseCommon {
  readonly name: string;
  readonly members: readonly MemberConfig[];
  readonly loss: Loss;
  /** The member whose gradient the finite-difference check reads. */
  readonly checkedMember: number;
  /** Moves the parameters this far off their init first (f − f₀ is zero at init). */
  readonly perturb: number;
  readonly inputDim: number;
  readonly outputDim: number;
  /** The case's model on a device, in a dtype (its own by default), with these members (the case's by default). */
  build(backend: Backend, dtype?: DType, members?: readonly MemberConfig[]): Model;
}

export interface MlpCase extends CaseCommon {
  readonly family: 'mlp';
  readonly config: MlpConfig;
}

export interface CnnCase extends CaseCommon {
  readonly family: 'cnn';
  readonly spec: CnnModelSpec;
  readonly imageShape: readonly [number, number, number];
}

export type ModelCase = MlpCase | CnnCase;

export const DTYPES = ['float64', 'float32'] as const;
export const DEVICES = ['ts', 'native'] as const;

function modelCase(name: string, overrides: Partial<MlpConfig>, members: MemberConfig[], loss: Loss, extra: Partial<Pick<ModelCase, 'checkedMember' | 'perturb'>> = {}): MlpCase {
  const config = smallConfig(overrides);
  return {
    name, family: 'mlp', config, members, loss, checkedMember: 0, perturb: 0, inputDim: config.inputDim, outputDim: config.outputDim, ...extra,
    build: (backend, dtype = config.dtype, these = members) => new MlpEnsemble({ ...config, dtype }, these, backend),
  };
}

export const MLP_CASES: readonly MlpCase[] = [
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

function cnnCase(
  name: string,
  spec: Record<string, unknown>,
  imageShape: readonly [number, number, number],
  outputDim: number,
  members: MemberConfig[],
  loss: Loss,
  extra: Partial<Pick<ModelCase, 'checkedMember' | 'perturb'>> = {},
): CnnCase {
  const parsed = cnnModelSchema.parse({ family: 'cnn', activation: 'tanh', ...spec });
  const inputDim = imageShape[0] * imageShape[1] * imageShape[2];
  return {
    name: `cnn: ${name}`, family: 'cnn', spec: parsed, imageShape, members, loss, checkedMember: 0, perturb: 0, inputDim, outputDim, ...extra,
    build: (backend, dtype = parsed.dtype, these = members) =>
      cnnFamily.build({ ...parsed, dtype }, these, { inputDim, outputDim, trainInputs: { rows: 0, cols: inputDim, data: new Float64Array(0) }, directions: null, task: 'test', imageShape }, backend),
  };
}

const conv = (channels: number, kernel = 3, stride = 1, padding: number | 'same' = 'same') => ({ type: 'conv', channels, kernel, stride, padding });

export const CNN_CASES: readonly CnnCase[] = [
  cnnCase('3×3 same-padded convolutions, an average pool, a dense layer, biases', { layers: [conv(3), { type: 'pool', kind: 'avg', size: 2 }, conv(4), { type: 'dense', units: 5 }], bias: true }, [2, 5, 5], 2, [member(1, { outputScale: 0.7 })], 'square'),
  cnnCase('a 3×3 convolution at stride 2 unpadded, a max pool of stride 1, global average pooling', { layers: [conv(4, 3, 2, 0), { type: 'pool', kind: 'max', size: 2, stride: 1 }, { type: 'globalAvgPool' }], activation: 'swish' }, [1, 7, 7], 1, [member(2)], 'logistic'),
  cnnCase('a 2×2 kernel padded by 1 at stride 2, ReLU', { layers: [conv(3, 2, 2, 1), conv(2, 3, 1, 'same')], activation: 'relu' }, [2, 4, 4], 1, [member(3, { initScale: 0.8 })], 'square', { perturb: 0.05 }),
  cnnCase('residual blocks: identity, then projection at stride 2', { layers: [conv(4), { type: 'residual', channels: 4 }, { type: 'residual', channels: 6, stride: 2 }, { type: 'globalAvgPool' }] }, [3, 6, 6], 3, [member(4)], 'crossEntropy'),
  cnnCase('a residual block with a projection kept at stride 1, biases', { layers: [conv(3), { type: 'residual', channels: 3, shortcut: 'projection' }], bias: true, activation: 'gelu' }, [1, 4, 4], 1, [member(5)], 'square'),
  ...PARAMETRIZATIONS.map((parametrization) =>
    cnnCase(`${parametrization} parametrization`, { layers: [conv(3), { type: 'pool', kind: 'max', size: 2 }, { type: 'dense', units: 4 }], parametrization }, [2, 4, 4], 2, [member(6, { outputScale: 1.5 })], 'square'),
  ),
  cnnCase('f − f₀ after the parameters moved, LeCun init', { layers: [conv(3), conv(2)], centerOutput: true, init: 'lecun', activation: 'sigmoid', bias: true }, [1, 4, 4], 1, [member(7, { outputScale: 0.25 })], 'square', { perturb: 0.3 }),
  cnnCase('a frozen first layer, per-layer init scales, member 2 of an ensemble of 3', { layers: [conv(3), conv(3, 3, 2)], frozenLayers: [0] }, [2, 5, 5], 2,
    [member(8), member(9, { initScale: [0.5, 2, 1], outputScale: 3 }), member(10, { initScale: [2, 0.5, 1], outputScale: 0.2 })], 'square', { checkedMember: 2 }),
  cnnCase('cnn5 at width ⅛ on 8×8 images', { architecture: 'cnn5', widthMultiplier: 0.125, activation: 'relu' }, [1, 8, 8], 2, [member(11)], 'crossEntropy', { perturb: 0.02 }),
  cnnCase('resnet8 at width ¼ on 8×8 images', { architecture: 'resnet8', widthMultiplier: 0.25 }, [1, 8, 8], 1, [member(12, { initScale: 0.7 })], 'logistic'),
];

export const MODEL_CASES: readonly ModelCase[] = [...MLP_CASES, ...CNN_CASES];
