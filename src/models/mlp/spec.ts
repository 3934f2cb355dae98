/** The MLP family's part of a trial spec (`model: { family: "mlp", … }`, the default family). */
import { z } from 'zod';
import { ACTIVATIONS } from '../../linalg/elementwise.js';
import { PARAMETRIZATIONS } from '../parametrization.js';
import { INIT_SCHEMES } from './ensemble.js';

const positiveInt = z.number().int().min(1);
const positive = z.number().positive().finite();
const nonNegative = z.number().min(0).finite();

export const mlpModelSchema = z.strictObject({
  /** The default family; absent in a stored spec (trial ids are unchanged by it). */
  family: z.literal('mlp').optional(),
  hiddenWidths: z.array(positiveInt).min(1).default([100]),
  activation: z.enum(ACTIVATIONS).default('relu'),
  /** Slope of leakyRelu on the negative side. */
  leak: z.number().min(0).max(1).default(0.01),
  parametrization: z.enum(PARAMETRIZATIONS).default('standard'),
  bias: z.boolean().default(false),
  init: z.enum(INIT_SCHEMES).default('gaussian'),
  /** One scale for all layers or one per weight layer. */
  initScale: z.union([nonNegative, z.array(nonNegative).min(1)]).default(1),
  /** alpha: f = alpha·net; the feature learning strength is 1/(alpha·Π initScale) (models/strength.ts; large is lazy). */
  outputScale: positive.default(1),
  centerOutput: z.boolean().default(false),
  frozenLayers: z.array(z.number().int().min(0)).default([]),
  /**
   * Start a two-layer net without biases on line1d data at this effective point (seed 002): the
   * hidden vector h = W(x̄e) of the data's one effective input has norm hiddenNorm, the output row
   * αu has norm outputNorm, and cos∠(u, h) = alignment; directions drawn from the init seed.
   */
  effectiveInit: z
    .strictObject({ outputNorm: nonNegative, hiddenNorm: nonNegative, alignment: z.number().min(-1).max(1) })
    .optional(),
  /** Seed of the initial weights; the trial seed when absent. */
  initSeed: z.number().int().min(0).optional(),
  dtype: z.enum(['float64', 'float32']).default('float64'),
});

export type MlpModelSpec = z.output<typeof mlpModelSchema>;

/** A spec's model part as an MLP's, or an error naming what needs one (the lab, the two-layer protocols). */
export function asMlp(model: MlpModelSpec | { readonly family: 'cnn' }, who: string): MlpModelSpec {
  if (model.family === 'cnn') throw new Error(`${who}: needs a fully connected net (model.family mlp), got cnn`);
  return model;
}
