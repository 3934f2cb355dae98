/**
 * The exact gradient flow of a two-layer linear network f(x) = uᵀWx on 1D data (Xu & Ziyin 2025,
 * as derived and checked in PAPERS.md §3.3): with h = Wx the flow closes on (u, h), and
 * z = e^{2S} obeys a Riccati equation solved in closed form. Loss ½(f − y)² at the effective point
 * (x, y) of the data (Proposition 1); layer-wise learning rates η_u, η_w.
 */

export interface LinearNetwork1dInit {
  /** Output weights u₀ (effective: any output scale folded in). */
  readonly u: readonly number[];
  /** Hidden representation h₀ = W₀x of the effective point. */
  readonly h: readonly number[];
  /** ‖x‖ of the effective point. */
  readonly xNorm: number;
  readonly y: number;
  readonly etaU: number;
  readonly etaW: number;
}

export interface LinearNetwork1dState {
  readonly output: number;
  /** ζ = cos∠(u, Wx). */
  readonly alignment: number;
  /** The NTK of the point, η_u‖h‖² + η_w‖x‖²‖u‖². */
  readonly ntk: number;
  readonly uNorm: number;
  readonly hNorm: number;
}

export interface LinearNetwork1dSolution {
  at(t: number): LinearNetwork1dState;
  readonly initial: LinearNetwork1dState;
  readonly final: LinearNetwork1dState;
  /** K_∞/K₀: ≈ 1 in the kernel regime, an O(1) factor or more with feature learning. */
  readonly ntkRatio: number;
  /** Exponential rate of convergence, cD = √(4c²y² + c⁴AB). */
  readonly rate: number;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function solveLinearNetwork1d(init: LinearNetwork1dInit): LinearNetwork1dSolution {
  const { xNorm, y, etaU, etaW } = init;
  if (!(etaU > 0 && etaW > 0 && xNorm > 0)) throw new Error('linear network: learning rates and ‖x‖ must be positive');
  const c = Math.sqrt(etaU * etaW) * xNorm;
  const uTilde = init.u.map((v) => v / Math.sqrt(etaU));
  const hTilde = init.h.map((v) => v / (xNorm * Math.sqrt(etaW)));
  const a0 = uTilde.map((v, i) => v + hTilde[i]);
  const b0 = uTilde.map((v, i) => v - hTilde[i]);
  const A = dot(a0, a0);
  const B = dot(b0, b0);
  const C = dot(a0, b0);
  const D = Math.sqrt(4 * y * y + c * c * A * B);

  // z(t) = e^{2S(t)}: Riccati dz/dt = c²A/2 − 2cyz − (c²B/2)z², z(0) = 1.
  let z: (t: number) => number;
  let zInfinity: number;
  const balanced = B <= 1e-14 * Math.max(A, 1e-300);
  if (balanced && y > 0) {
    // B = 0: linear in z, z → cA/(4y).
    const zStar = (c * A) / (4 * y);
    z = (t) => zStar + (1 - zStar) * Math.exp(-2 * c * y * t);
    zInfinity = zStar;
  } else if (balanced) {
    // B = 0 with y ≤ 0: z grows without bound (like e^{2c|y|t}, or linearly when y = 0) and the flow
    // runs into the saddle at the origin: f → 0, not y.
    z = y === 0 ? (t) => 1 + ((c * c * A) / 2) * t : (t) => { const zStar = (c * A) / (4 * y); return zStar + (1 - zStar) * Math.exp(-2 * c * y * t); };
    zInfinity = Infinity;
  } else {
    const zPlus = (-2 * y + D) / (c * B);
    const zMinus = (-2 * y - D) / (c * B);
    const k0 = (1 - zPlus) / (1 - zMinus);
    z = (t) => {
      const e = k0 * Math.exp(-c * D * t);
      return (zPlus - zMinus * e) / (1 - e);
    };
    zInfinity = zPlus;
  }

  const stateOf = (zt: number): LinearNetwork1dState => {
    // On the balanced branch B is 0 up to rounding: B·z is dropped so that z = ∞ gives the origin.
    const bz = balanced ? 0 : B * zt;
    const p = A / zt + bz;
    const q = A / zt - bz;
    const uTildeSq = (p + 2 * C) / 4;
    const hTildeSq = (p - 2 * C) / 4;
    const spread = Math.sqrt(Math.max(p * p - 4 * C * C, 0));
    return {
      output: (c / 4) * q,
      // At the origin (p = q = 0) u and h stay parallel: ζ keeps its limit, 1.
      alignment: spread > 0 ? q / spread : 1,
      ntk: (c * c * p) / 2,
      uNorm: Math.sqrt(etaU * Math.max(uTildeSq, 0)),
      hNorm: xNorm * Math.sqrt(etaW * Math.max(hTildeSq, 0)),
    };
  };
  const initial = stateOf(1);
  const final = stateOf(zInfinity);
  return { at: (t) => stateOf(z(t)), initial, final, ntkRatio: final.ntk / initial.ntk, rate: balanced && y <= 0 ? 2 * c * Math.abs(y) : c * D };
}

/** ζ_∞ = y / √(y² + ‖u₀‖²‖W₀x‖²(1 − ζ₀²)): the final alignment, whatever the learning rates. */
export function finalAlignment(init: Pick<LinearNetwork1dInit, 'u' | 'h' | 'y'>): number {
  const uu = dot(init.u, init.u);
  const hh = dot(init.h, init.h);
  const uh = dot(init.u, init.h);
  return init.y / Math.sqrt(init.y * init.y + uu * hh - uh * uh);
}

export const REGIMES = ['kernel', 'featureLearning'] as const;
export type Regime = (typeof REGIMES)[number];

/** The phase of a run from K_∞/K₀: kernel when the NTK changes by less than `tolerance` (relative). */
export function regimeOf(ntkRatio: number, tolerance = 0.1): Regime {
  return Math.abs(Math.log(ntkRatio)) < Math.log1p(tolerance) ? 'kernel' : 'featureLearning';
}

/** The effective point's numbers as the `layers` metric records them (seed 002, §3.3). */
export interface EffectivePointState {
  /** ‖α·u‖: the output row with the output scale folded in. */
  readonly outputNorm: number;
  /** ‖h‖ = ‖W x‖ at the effective point. */
  readonly hiddenNorm: number;
  /** ζ = cos∠(u, h). */
  readonly alignment: number;
  readonly inputNorm: number;
  readonly target: number;
}

/**
 * The closed form from norms and angle alone: the flow is rotation invariant, so only ‖u₀‖, ‖h₀‖, ζ₀,
 * ‖x‖, y and the rates matter; u₀ and h₀ are placed in a plane with that angle.
 */
export function solveFromEffectivePoint(state: EffectivePointState, rates: { readonly etaU: number; readonly etaW: number }): LinearNetwork1dSolution {
  const { outputNorm, hiddenNorm, alignment } = state;
  return solveLinearNetwork1d({
    u: [outputNorm, 0],
    h: [hiddenNorm * alignment, hiddenNorm * Math.sqrt(Math.max(0, 1 - alignment * alignment))],
    xNorm: state.inputNorm,
    y: state.target,
    etaU: rates.etaU,
    etaW: rates.etaW,
  });
}
