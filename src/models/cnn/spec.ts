/**
 * The convolutional family's part of a trial spec (`model: { family: "cnn", … }`): the net as a list of
 * layers, or one of the named architectures, with the MLP family's parametrization knobs. The readout
 * (a dense layer to the data's outputs) always closes the list; it is the last weight layer.
 */
import { z } from 'zod';
import { ACTIVATIONS } from '../../linalg/elementwise.js';
import { PARAMETRIZATIONS } from '../parametrization.js';

const positiveInt = z.number().int().min(1);
const positive = z.number().positive().finite();
const nonNegative = z.number().min(0).finite();

const convLayer = z.strictObject({
  type: z.literal('conv'),
  channels: positiveInt,
  /** A square kernel's side. */
  kernel: positiveInt.default(3),
  stride: positiveInt.default(1),
  /** Zeros around each side; `same` is ⌊kernel/2⌋ (the output keeps the size at stride 1). */
  padding: z.union([z.literal('same'), z.number().int().min(0)]).default('same'),
});
const poolLayer = z.strictObject({
  type: z.literal('pool'),
  kind: z.enum(['max', 'avg']).default('max'),
  size: positiveInt.default(2),
  /** The window's step; the window's size when absent. */
  stride: positiveInt.optional(),
});
const globalAvgPoolLayer = z.strictObject({ type: z.literal('globalAvgPool') });
/** A fully connected layer; the image before it is flattened. */
const denseLayer = z.strictObject({ type: z.literal('dense'), units: positiveInt });
/**
 * A basic residual block without normalization: σ(conv₂(σ(conv₁(x))) + s(x)) with 3×3 convolutions,
 * the first of the given stride; the shortcut s is the identity where the shape is kept and a 1×1
 * convolution of that stride where it changes (`auto`), or as chosen.
 */
const residualLayer = z.strictObject({
  type: z.literal('residual'),
  channels: positiveInt,
  stride: positiveInt.default(1),
  shortcut: z.enum(['auto', 'identity', 'projection']).default('auto'),
});

export const cnnLayerSchema = z.discriminatedUnion('type', [convLayer, poolLayer, globalAvgPoolLayer, denseLayer, residualLayer]);
export type CnnLayer = z.output<typeof cnnLayerSchema>;

export const CNN_ARCHITECTURES = ['cnn5', 'vgg', 'resnet8', 'resnet20'] as const;
export type CnnArchitecture = (typeof CNN_ARCHITECTURES)[number];

export const cnnModelSchema = z
  .strictObject({
    family: z.literal('cnn'),
    /** A named architecture (see `architectureLayers`); `layers` instead lists the net. */
    architecture: z.enum(CNN_ARCHITECTURES).optional(),
    layers: z.array(cnnLayerSchema).max(1_000).optional(),
    /** Scales every layer's channels and units (rounded, at least 1): the width knob h, and α of a narrow copy. */
    widthMultiplier: positive.default(1),
    /** [channels, height, width] of inputs that carry no shape (synthetic vectors); [d, 1, 1] when absent. */
    inputShape: z.tuple([positiveInt, positiveInt, positiveInt]).optional(),
    activation: z.enum(ACTIVATIONS).default('relu'),
    /** Slope of leakyRelu on the negative side. */
    leak: z.number().min(0).max(1).default(0.01),
    /** Fan-in of a convolution is C_in·k·k. */
    parametrization: z.enum(PARAMETRIZATIONS).default('standard'),
    bias: z.boolean().default(false),
    /** `kaiming` multiplies the hidden layers' init std by √2 (He et al. 2015, for ReLU); `lecun` does not. */
    init: z.enum(['kaiming', 'lecun']).default('kaiming'),
    /** One scale for all weight layers or one per weight layer. */
    initScale: z.union([nonNegative, z.array(nonNegative).min(1)]).default(1),
    /** alpha (the papers' output multiplier c): f = alpha·net. */
    outputScale: positive.default(1),
    centerOutput: z.boolean().default(false),
    frozenLayers: z.array(z.number().int().min(0)).default([]),
    /** Seed of the initial weights; the trial seed when absent. */
    initSeed: z.number().int().min(0).optional(),
    dtype: z.enum(['float64', 'float32']).default('float64'),
  })
  .refine((m) => (m.architecture === undefined) !== (m.layers === undefined), {
    error: 'model: give either architecture (one of cnn5, vgg, resnet8, resnet20) or layers, not both',
  });

export type CnnModelSpec = z.output<typeof cnnModelSchema>;

/**
 * The named architectures, in the papers' spirit and small enough for two cores (none has batch norm):
 * - cnn5: four 3×3 convolutions of 32 channels, max-pooled after each pair, then the readout (5 weight layers);
 * - vgg: three stages of two 3×3 convolutions (16, 32, 64 channels) each max-pooled, a dense layer of 128, the readout;
 * - resnet8 / resnet20: a 3×3 convolution of 16 channels, three stages of 1 / 3 residual blocks (16, 32, 64
 *   channels, the last two entered at stride 2), global average pooling, the readout (He et al. 2016's CIFAR nets).
 */
export function architectureLayers(name: CnnArchitecture): CnnLayer[] {
  const conv = (channels: number): CnnLayer => ({ type: 'conv', channels, kernel: 3, stride: 1, padding: 'same' });
  const pool: CnnLayer = { type: 'pool', kind: 'max', size: 2 };
  const block = (channels: number, stride = 1): CnnLayer => ({ type: 'residual', channels, stride, shortcut: 'auto' });
  const stages = (blocks: number): CnnLayer[] =>
    [16, 32, 64].flatMap((channels, s) => Array.from({ length: blocks }, (_, b) => block(channels, s > 0 && b === 0 ? 2 : 1)));
  switch (name) {
    case 'cnn5':
      return [conv(32), conv(32), pool, conv(32), conv(32), pool];
    case 'vgg':
      return [conv(16), conv(16), pool, conv(32), conv(32), pool, conv(64), conv(64), pool, { type: 'dense', units: 128 }];
    case 'resnet8':
      return [conv(16), ...stages(1), { type: 'globalAvgPool' }];
    case 'resnet20':
      return [conv(16), ...stages(3), { type: 'globalAvgPool' }];
  }
}

/** The spec's layers (named or listed) with every width multiplied. */
export function cnnLayers(spec: Pick<CnnModelSpec, 'architecture' | 'layers' | 'widthMultiplier'>): CnnLayer[] {
  const listed = spec.layers ?? architectureLayers(spec.architecture ?? 'cnn5');
  const scaled = (width: number) => Math.max(1, Math.round(width * spec.widthMultiplier));
  return listed.map((layer) => {
    switch (layer.type) {
      case 'conv':
      case 'residual':
        return { ...layer, channels: scaled(layer.channels) };
      case 'dense':
        return { ...layer, units: scaled(layer.units) };
      default:
        return layer;
    }
  });
}
