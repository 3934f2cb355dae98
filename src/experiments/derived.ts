/**
 * Values a trial's spec determines beyond its own fields, computed in one place from the typed spec:
 * exports and reports read them instead of recomputing them from stored JSON.
 */
import { familyOf } from '../models/families.js';
import { featureLearningStrength } from '../models/strength.js';
import type { TrialSpec } from './trialSpec.js';

export interface DerivedValues {
  /** FLS = 1/(α·Π_l λ_l) of the trial's model (models/strength.ts); null where not finite (a zero init). */
  readonly featureLearningStrength: number | null;
  /** η_out/η_in, the output layer's learning-rate multiplier over the first layer's (η_u/η_w of a two-layer net); null when the trial does not set them. */
  readonly learningRateRatio: number | null;
}

export function derivedValues(spec: TrialSpec): DerivedValues {
  const fls = featureLearningStrength({ initScale: spec.model.initScale, outputScale: spec.model.outputScale, layers: familyOf(spec.model).layerCount(spec.model) });
  const rates = spec.training.layerLearningRates;
  return {
    featureLearningStrength: Number.isFinite(fls) ? fls : null,
    learningRateRatio: rates && rates.length >= 2 && rates[0] > 0 ? rates[rates.length - 1] / rates[0] : null,
  };
}
