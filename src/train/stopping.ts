/** Stopping rules: each a small pure check on a member's state, combinable in one config. */

export const STOP_REASONS = ['targetRisk', 'interpolated', 'maxSteps', 'maxTime', 'maxSeconds', 'plateau', 'stationary', 'diverged'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** Reasons that end a run on a budget, not on a rule about its state: such a run is not known to have converged. */
export const BUDGET_REASONS: readonly StopReason[] = ['maxSteps', 'maxTime', 'maxSeconds'];

/** The convergence rules a stopping config asks for (the rules whose firing says where the run ended up). */
export function convergenceRules(config: Pick<StoppingConfig, 'targetTrainRisk' | 'interpolation' | 'plateau' | 'gradientTolerance'>): string[] {
  return [
    ...(config.targetTrainRisk !== undefined ? ['targetTrainRisk'] : []),
    ...(config.interpolation ? ['interpolation'] : []),
    ...(config.plateau ? ['plateau'] : []),
    ...(config.gradientTolerance !== undefined ? ['gradientTolerance'] : []),
  ];
}

export interface StoppingConfig {
  readonly maxSteps: number;
  /** Continuous time (learning rate × steps for GD). */
  readonly maxTime?: number;
  readonly maxSeconds?: number;
  /** Stop at the first step whose training risk is at or below this (Yeom et al.'s rule). */
  readonly targetTrainRisk?: number;
  /** Stop once every training point is fitted (zero classification error, or |f − y| ≤ tolerance). */
  readonly interpolation?: boolean;
  readonly interpolationTolerance: number;
  /** Stop when the loss fell by less than relativeTolerance over the last `window` steps. */
  readonly plateau?: { readonly window: number; readonly relativeTolerance: number };
  /** Stationarity: stop when ‖∇L‖₂ over the trained parameters is at or below this (full-batch GD and Adam). */
  readonly gradientTolerance?: number;
  /** A loss above this (or not finite) is divergence. */
  readonly divergenceLoss: number;
}

export interface MemberProgress {
  readonly step: number;
  readonly time: number;
  readonly seconds: number;
  readonly trainLoss: number;
  /** Fraction of misfitted training points (see interpolation), or null where undefined. */
  readonly trainMisfit: number;
  /** The loss `window` steps ago, or null before that. */
  readonly lossWindowAgo: number | null;
  /** ‖∇L‖₂ of the member at this state, or null where not computed (minibatches, the flow's stages). */
  readonly gradientNorm?: number | null;
}

/** The first rule that fires, in a fixed order (divergence first), or null to go on. */
export function checkStop(config: StoppingConfig, p: MemberProgress): StopReason | null {
  if (!Number.isFinite(p.trainLoss) || p.trainLoss > config.divergenceLoss) return 'diverged';
  if (config.targetTrainRisk !== undefined && p.trainLoss <= config.targetTrainRisk) return 'targetRisk';
  if (config.interpolation && p.trainMisfit === 0) return 'interpolated';
  if (config.gradientTolerance !== undefined && p.gradientNorm !== undefined && p.gradientNorm !== null && p.gradientNorm <= config.gradientTolerance) return 'stationary';
  if (config.plateau && p.lossWindowAgo !== null && p.lossWindowAgo - p.trainLoss <= config.plateau.relativeTolerance * Math.abs(p.lossWindowAgo)) return 'plateau';
  if (p.step >= config.maxSteps) return 'maxSteps';
  if (config.maxTime !== undefined && p.time >= config.maxTime) return 'maxTime';
  if (config.maxSeconds !== undefined && p.seconds >= config.maxSeconds) return 'maxSeconds';
  return null;
}

/**
 * The last window + 1 training losses of each member, pushed at each step boundary, in one flat ring
 * (push j of member k at k·(window + 1) + j mod (window + 1)) that a native loop can update in place.
 */
export class LossWindow {
  readonly ring: Float64Array;
  readonly counts: Float64Array;

  constructor(
    members: number,
    readonly window: number,
  ) {
    this.ring = new Float64Array(members * (window + 1));
    this.counts = new Float64Array(members);
  }

  push(k: number, loss: number): void {
    if (this.window <= 0) return;
    const span = this.window + 1;
    this.ring[k * span + (this.counts[k] % span)] = loss;
    this.counts[k]++;
  }

  /** The loss pushed `window` pushes before the latest, or null before there are that many. */
  windowAgo(k: number): number | null {
    const span = this.window + 1;
    if (this.window <= 0 || this.counts[k] < span) return null;
    return this.ring[k * span + ((this.counts[k] - span) % span)];
  }
}
