/**
 * The feature learning strength (Yeom, Ha & Lee 2026): "the inverse of the effective output scaling of
 * a model". A bias-free net with L weight layers is L-homogeneous in its weights, so a net initialized
 * at scale λ_l in layer l with output multiplier α computes
 *
 *   f(x) = α·Π_l λ_l · f̃(x; θ̃)   (θ̃ the same net at scale 1),
 *
 * its effective output scale is s = α·Π_l λ_l (α·λ^L with one scale) and FLS = 1/s. Either knob moves
 * it: a small init (λ → 0) or a small multiplier (α → 0) is the rich side, a large one the lazy side.
 * With biases the net is not homogeneous and s is the nominal value of the same formula.
 */

export interface StrengthKnobs {
  /** One init scale for every weight layer or one per layer. */
  readonly initScale: number | readonly number[];
  /** α in f = α·net. */
  readonly outputScale: number;
  /** L, the number of weight layers (hidden layers + 1). */
  readonly layers: number;
}

function initScales(knobs: StrengthKnobs): number[] {
  return typeof knobs.initScale === 'number' ? Array.from({ length: knobs.layers }, () => knobs.initScale as number) : [...knobs.initScale];
}

/** s = α·Π_l λ_l. */
export function effectiveOutputScale(knobs: StrengthKnobs): number {
  return initScales(knobs).reduce((product, scale) => product * scale, knobs.outputScale);
}

/** FLS = 1/(α·Π_l λ_l); Infinity for a zero init. */
export function featureLearningStrength(knobs: StrengthKnobs): number {
  return 1 / effectiveOutputScale(knobs);
}

/**
 * The factor `training.learningRateScaling: strength` multiplies the learning rate by, so that trials
 * across many decades of FLS train at a comparable pace (Atanasov et al. 2024: η* ∝ γ² on the lazy
 * side, γ^{2/L} on the rich side, γ = FLS):
 *
 *   g = λ̄^{−2(L−1)} if λ̄ > 1 (the tangent kernel grows like λ̄^{2(L−1)}), else 1;
 *   times α^{−2/L} if α < 1, α^{−2} if α > 1;   λ̄ = (Π_l λ_l)^{1/L}.
 *
 * With one init scale this makes the two knobs the same dynamics: writing θ = λ·φ turns gradient
 * descent on θ at rate η into gradient descent on φ at rate η/λ² on the net α·λ^L·f̃(φ), so init scale λ
 * (multiplier 1) and multiplier α = λ^L (init scale 1) give the same trajectory at equal FLS.
 */
export function strengthLearningRateFactor(knobs: StrengthKnobs): number {
  const { layers, outputScale } = knobs;
  const meanScale = initScales(knobs).reduce((product, scale) => product * scale, 1) ** (1 / layers);
  const fromInit = meanScale > 1 ? meanScale ** (-2 * (layers - 1)) : 1;
  const fromOutput = outputScale < 1 ? outputScale ** (-2 / layers) : outputScale ** -2;
  return fromInit * fromOutput;
}

export const LEARNING_RATE_SCALINGS = ['none', 'strength'] as const;
export type LearningRateScaling = (typeof LEARNING_RATE_SCALINGS)[number];

/** The knobs of a model section of a spec (init scale, output scale) with its number of weight layers. */
export function modelStrengthKnobs(model: { readonly initScale: number | readonly number[]; readonly outputScale: number }, layers: number): StrengthKnobs {
  return { initScale: model.initScale, outputScale: model.outputScale, layers };
}
