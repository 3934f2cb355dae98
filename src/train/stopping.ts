/** Stopping rules: each a registered value, a small pure check on a member's state with its own fields of the spec. */
import { z } from 'zod';
import type { WindowReading } from './windowStationarity.js';

export const STOP_REASONS = ['targetRisk', 'targetAccuracy', 'interpolated', 'maxEpochs', 'maxSteps', 'maxTime', 'maxSeconds', 'plateau', 'stationary', 'windowStationary', 'diverged'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** Reasons that end a run on a budget, not on a rule about its state: such a run is not known to have converged. */
export const BUDGET_REASONS: readonly StopReason[] = ['maxEpochs', 'maxSteps', 'maxTime', 'maxSeconds'];

/** The convergence rules a stopping config asks for (the rules whose firing says where the run ended up). */
export function convergenceRules(config: Partial<Pick<StoppingConfig, 'targetTrainRisk' | 'targetTrainAccuracy' | 'interpolation' | 'plateau' | 'gradientTolerance' | 'windowStationarity'>>): string[] {
  return [
    ...(config.targetTrainRisk !== undefined ? ['targetTrainRisk'] : []),
    ...(config.targetTrainAccuracy !== undefined ? ['targetTrainAccuracy'] : []),
    ...(config.interpolation ? ['interpolation'] : []),
    ...(config.plateau ? ['plateau'] : []),
    ...(config.gradientTolerance !== undefined ? ['gradientTolerance'] : []),
    ...(config.windowStationarity ? ['windowStationarity'] : []),
  ];
}

const positive = z.number().positive().finite();

/** Each stop rule's fields of the spec's `training.stop`, with their schemas. */
const STOP_FIELDS = {
  /** A loss above this (or not finite) is divergence. */
  diverged: { divergenceLoss: positive.default(1e12) },
  /** Stop at the first step whose training risk is at or below this (Yeom et al.'s rule). */
  targetRisk: { targetTrainRisk: positive.optional() },
  /**
   * Stop at the first check whose training accuracy is at or above this fraction (the papers' "train to
   * 99 % train accuracy"); a point counts as fitted as for interpolation. Minibatch runs check at epoch ends.
   */
  targetAccuracy: { targetTrainAccuracy: z.number().gt(0).max(1).optional() },
  /** Stop once every training point is fitted (zero classification error, or |f − y| ≤ tolerance). */
  interpolated: { interpolation: z.boolean().default(false), interpolationTolerance: positive.default(1e-3) },
  /** Stationarity: stop when ‖∇L‖₂ over the trained parameters is at or below this (full-batch GD and Adam). */
  stationary: { gradientTolerance: positive.optional() },
  /**
   * Clarke-type stationarity over a window of steps (train/windowStationarity.ts): stop at a multiple of
   * `window` where the window-mean gradient ‖ḡ‖ is at most meanGradient and the loss changed by at most
   * relativeLossChange of itself over the window. Full-batch steps only.
   */
  windowStationary: {
    windowStationarity: z
      .strictObject({ window: z.number().int().min(1).default(10000), meanGradient: positive, relativeLossChange: z.number().min(0).finite().default(1e-6) })
      .optional(),
  },
  /** Stop when the training loss fell by at most relativeTolerance × itself over the last `window` steps. */
  plateau: { plateau: z.strictObject({ window: z.number().int().min(1).default(1000), relativeTolerance: z.number().min(0).finite().default(1e-4) }).optional() },
  /** Passes over the training set (⌈n / batchSize⌉ steps each; one step for full batch); needs maxSteps at least that many steps. */
  maxEpochs: { maxEpochs: z.number().int().min(0).optional() },
  maxSteps: { maxSteps: z.number().int().min(0).default(10000) },
  /** Continuous time (learning rate × steps for GD). */
  maxTime: { maxTime: positive.optional() },
  maxSeconds: { maxSeconds: positive.optional() },
} as const satisfies Record<StopReason, z.ZodRawShape>;

/** The spec's `training.stop`: every rule's fields. */
export const stopSchema = z.strictObject({
  ...STOP_FIELDS.maxSteps,
  ...STOP_FIELDS.maxEpochs,
  ...STOP_FIELDS.maxTime,
  ...STOP_FIELDS.maxSeconds,
  ...STOP_FIELDS.targetRisk,
  ...STOP_FIELDS.targetAccuracy,
  ...STOP_FIELDS.interpolated,
  ...STOP_FIELDS.plateau,
  ...STOP_FIELDS.stationary,
  ...STOP_FIELDS.windowStationary,
  ...STOP_FIELDS.diverged,
});

export type StoppingConfig = z.output<typeof stopSchema>;

/**
 * A stop rule: its reason, its fields of the spec's `training.stop` (STOP_FIELDS) and whether it
 * fires for a member's progress.
 */
export interface StopRule {
  readonly reason: StopReason;
  readonly fields: z.ZodRawShape;
  fires(config: StoppingConfig, p: MemberProgress): boolean;
}

/** Every stop rule, in the order they are checked: divergence first, then the rules about the state, then the budgets. */
export const STOP_RULES: readonly StopRule[] = [
  { reason: 'diverged', fields: STOP_FIELDS.diverged, fires: (config, p) => !Number.isFinite(p.trainLoss) || p.trainLoss > config.divergenceLoss },
  { reason: 'targetRisk', fields: STOP_FIELDS.targetRisk, fires: (config, p) => config.targetTrainRisk !== undefined && p.trainLoss <= config.targetTrainRisk },
  {
    reason: 'targetAccuracy',
    fields: STOP_FIELDS.targetAccuracy,
    // The slack absorbs 1 − 0.99 ≠ 0.01 in floating point; misfits are counts over n.
    fires: (config, p) => config.targetTrainAccuracy !== undefined && p.trainMisfit <= 1 - config.targetTrainAccuracy + 1e-12,
  },
  { reason: 'interpolated', fields: STOP_FIELDS.interpolated, fires: (config, p) => config.interpolation && p.trainMisfit === 0 },
  {
    reason: 'stationary',
    fields: STOP_FIELDS.stationary,
    fires: (config, p) => config.gradientTolerance !== undefined && p.gradientNorm !== undefined && p.gradientNorm !== null && p.gradientNorm <= config.gradientTolerance,
  },
  {
    reason: 'windowStationary',
    fields: STOP_FIELDS.windowStationary,
    fires: (config, p) => {
      const rule = config.windowStationarity;
      const w = p.window;
      return rule !== undefined && w !== undefined && w !== null && w.meanGradient <= rule.meanGradient && Math.abs(w.relativeLossChange) <= rule.relativeLossChange;
    },
  },
  {
    reason: 'plateau',
    fields: STOP_FIELDS.plateau,
    fires: (config, p) => config.plateau !== undefined && p.lossWindowAgo !== null && p.lossWindowAgo - p.trainLoss <= config.plateau.relativeTolerance * Math.abs(p.lossWindowAgo),
  },
  { reason: 'maxEpochs', fields: STOP_FIELDS.maxEpochs, fires: (config, p) => config.maxEpochs !== undefined && p.epochs >= config.maxEpochs },
  { reason: 'maxSteps', fields: STOP_FIELDS.maxSteps, fires: (config, p) => p.step >= config.maxSteps },
  { reason: 'maxTime', fields: STOP_FIELDS.maxTime, fires: (config, p) => config.maxTime !== undefined && p.time >= config.maxTime },
  { reason: 'maxSeconds', fields: STOP_FIELDS.maxSeconds, fires: (config, p) => config.maxSeconds !== undefined && p.seconds >= config.maxSeconds },
];

export interface MemberProgress {
  readonly step: number;
  /** Completed passes over the training set: step / ⌈n / batchSize⌉ (the step itself for full batch). */
  readonly epochs: number;
  readonly time: number;
  readonly seconds: number;
  readonly trainLoss: number;
  /** Fraction of misfitted training points (see interpolation), or null where undefined. */
  readonly trainMisfit: number;
  /** The loss `window` steps ago, or null before that. */
  readonly lossWindowAgo: number | null;
  /** ‖∇L‖₂ of the member at this state, or null where not computed (minibatches, the flow's stages). */
  readonly gradientNorm?: number | null;
  /** The window that ends at this step (windowStationarity), or null elsewhere. */
  readonly window?: WindowReading | null;
}

/**
 * The steps a run may take: maxSteps, or fewer when maxEpochs passes of stepsPerEpoch steps come first
 * (the trainer's recording schedule and a native loop's limit).
 */
export function stepBudget(config: Pick<StoppingConfig, 'maxSteps' | 'maxEpochs'>, stepsPerEpoch: number): number {
  return config.maxEpochs === undefined ? config.maxSteps : Math.min(config.maxSteps, config.maxEpochs * stepsPerEpoch);
}

/** The first rule that fires, in STOP_RULES's order, or null to go on. */
export function checkStop(config: StoppingConfig, p: MemberProgress): StopReason | null {
  return STOP_RULES.find((rule) => rule.fires(config, p))?.reason ?? null;
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
