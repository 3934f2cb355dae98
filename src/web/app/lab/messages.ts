/** What the page and the lab's Web Worker say to each other. */
import type { LabState } from '../../lab/labState.js';
import type { LabData, LabSnapshot } from '../../lab/liveTraining.js';
import type { EffectivePointState } from '../../../theory/linearNetwork1d.js';

export type PageMessage =
  | { readonly type: 'reset'; readonly state: LabState }
  /** stepsPerFrame: watch slowly, that many steps then a snapshot each frame; absent, full speed. */
  | { readonly type: 'run'; readonly stepsPerFrame?: number }
  | { readonly type: 'pause' }
  | { readonly type: 'step'; readonly steps: number }
  | { readonly type: 'rates'; readonly learningRate: number; readonly rateFirst: number; readonly rateSecond: number }
  | { readonly type: 'export' };

/** The closed form of the 1D linear toy, sampled on the page's time axis. */
export interface TheoryCurve {
  readonly time: number[];
  readonly output: number[];
  readonly alignment: number[];
  readonly ntkRatio: number;
  readonly regime: 'kernel' | 'featureLearning';
}

/** Losses after each chunk since the last snapshot: the loss curve is drawn from these. */
export interface LossPoint {
  readonly step: number;
  readonly trainLoss: number | null;
  readonly testLoss: number | null;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly data: LabData; readonly snapshot: LabSnapshot; readonly theory: TheoryCurve | null; readonly effectivePoint: EffectivePointState | null }
  | { readonly type: 'snapshot'; readonly snapshot: LabSnapshot; readonly running: boolean; readonly losses: LossPoint[] }
  | { readonly type: 'exported'; readonly spec: Record<string, unknown> }
  | { readonly type: 'error'; readonly message: string };
