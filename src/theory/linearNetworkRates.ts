/**
 * The one bridge from a two-layer net's settings to the closed form's learning rates (seed 002):
 * a layer whose effective weight is m·θ, with θ stepped by η·r·s (r its layer rate, s the
 * parametrization's lrScale), moves like a gradient flow on the effective weight with rate m²·r·s per
 * unit of time t = steps × η; the output scale α multiplies the output row's rate by α² (the closed
 * form's u is α·u). Used by the mechanisms report, the live lab and the phase page.
 */
import { layerScalings, type Parametrization } from '../models/parametrization.js';

export interface TwoLayerSettings {
  readonly parametrization: Parametrization;
  /** [input dimension, hidden width, outputs]. */
  readonly widths: readonly [number, number, number];
  readonly outputScale: number;
  /** Layer-wise multipliers [input layer, output layer] (default [1, 1]). */
  readonly layerLearningRates?: readonly number[];
}

/** η_w (input layer) and η_u (output row) of the closed form, per unit of time. */
export function linearNetworkRates(settings: TwoLayerSettings): { etaW: number; etaU: number } {
  const [first, second] = layerScalings(settings.parametrization, settings.widths);
  const [rw, ru] = settings.layerLearningRates ?? [1, 1];
  return {
    etaW: first.multiplier ** 2 * first.lrScale * rw,
    etaU: settings.outputScale ** 2 * second.multiplier ** 2 * second.lrScale * ru,
  };
}
