/**
 * The residual of a model trained in its linearization (the kernel regime; Oymak et al. 2019, §4.3 of
 * PAPERS.md). With J = Σ_s λ_s u_s v_sᵀ the Jacobian of the n·K training outputs and featlab's square
 * loss L(θ) = (1/n) Σ_i ½‖f(x_i; θ) − y_i‖², a gradient step θ ← θ − η ∇L moves the residual
 * r = f − y by r ← (I − (η/n) J Jᵀ) r, so on each left singular direction
 *
 *   ⟨u_s, r_τ⟩ = (1 − η λ_s²/n)^τ ⟨u_s, r_0⟩            (gradient descent, τ steps)
 *   ⟨u_s, r_t⟩ = exp(−η λ_s² t/n) ⟨u_s, r_0⟩            (gradient flow, time t, η the rate per unit time)
 *
 * The paper writes L without the 1/n; its η is featlab's η/n. Exact for a model linear in its trained
 * parameters; for a network, a prediction that holds while J stays near its initial value.
 */

export type LinearizedDynamics = { readonly kind: 'gd'; readonly stepSize: number; readonly steps: number } | { readonly kind: 'flow'; readonly rate: number; readonly time: number };

/** The factor ⟨u_s, r⟩/⟨u_s, r_0⟩ of a direction with singular value λ, for n training points. */
export function linearizedModeFactor(lambda: number, points: number, dynamics: LinearizedDynamics): number {
  const speed = (lambda * lambda) / points;
  return dynamics.kind === 'gd' ? Math.pow(1 - dynamics.stepSize * speed, dynamics.steps) : Math.exp(-dynamics.rate * speed * dynamics.time);
}

/**
 * The one step size that a trainer applies to every trained layer, when there is one: the linear
 * prediction above needs θ to move along −∇L itself, not a layer-wise rescaling of it.
 */
export function uniformStepSize(stepSizes: ArrayLike<number>): number | null {
  let common: number | null = null;
  for (let l = 0; l < stepSizes.length; l++) {
    const s = stepSizes[l];
    if (s === 0) continue;
    if (common === null) common = s;
    else if (Math.abs(s - common) > 1e-12 * Math.abs(common)) return null;
  }
  return common;
}
