/**
 * Parametrizations as a table of per-layer (multiplier, init std, learning-rate scale):
 * the effective weight is multiplier × stored weight, stored weights start as N(0, (initScale·std)²),
 * and the step on stored weights is learningRate × lrScale × gradient.
 * Written in the abc form of Yang & Hu (2021, "Tensor Programs IV", Table 1), shifted by the
 * symmetry (a, b, c) → (a + θ, b − θ, c − 2θ) so every std is 1 except in `standard`.
 */

export const PARAMETRIZATIONS = ['standard', 'ntk', 'meanField', 'muP'] as const;
export type Parametrization = (typeof PARAMETRIZATIONS)[number];

export interface LayerScaling {
  readonly multiplier: number;
  readonly initStd: number;
  readonly lrScale: number;
}

/** widths = [d, n_1, …, n_L]; returns one entry per weight layer. */
export function layerScalings(parametrization: Parametrization, widths: readonly number[]): LayerScaling[] {
  return layerScalingsOfFans(parametrization, widths.slice(0, -1), widths.slice(1));
}

/**
 * One entry per weight layer from its fan-in and fan-out (a convolution's fan-in is C_in·k_h·k_w,
 * its fan-out C_out); the last layer is the output layer.
 */
export function layerScalingsOfFans(parametrization: Parametrization, fanIns: readonly number[], fanOuts: readonly number[]): LayerScaling[] {
  const layers = fanIns.length;
  const lastHidden = fanIns[layers - 1];
  return Array.from({ length: layers }, (_, l) => {
    const fanIn = fanIns[l];
    const fanOut = fanOuts[l];
    const isOutput = l === layers - 1;
    switch (parametrization) {
      case 'standard': // LeCun init, no multipliers.
        return { multiplier: 1, initStd: 1 / Math.sqrt(fanIn), lrScale: 1 };
      case 'ntk': // Jacot et al. 2018: W/√fan_in with N(0, 1) weights.
        return { multiplier: 1 / Math.sqrt(fanIn), initStd: 1, lrScale: 1 };
      case 'meanField': // Mei et al. 2018 / Chizat & Bach 2018: 1/m output, time sped up by m.
        return { multiplier: l === 0 ? 1 / Math.sqrt(fanIn) : 1 / fanIn, initStd: 1, lrScale: lastHidden };
      case 'muP': // Yang & Hu 2021, SGD: input/hidden (−½, ½, 0) and output (½, ½, 0), shifted.
        return isOutput
          ? { multiplier: 1 / fanIn, initStd: 1, lrScale: fanIn }
          : { multiplier: 1 / Math.sqrt(fanIn), initStd: 1, lrScale: fanOut };
    }
  });
}
