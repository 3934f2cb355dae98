/** What training records: points on a member's curve, vectors as series, a member's result, and the hooks that observe it. */
import type { DataSplit } from '../data/dataset.js';
import type { Model } from '../models/model.js';
import type { Loss } from '../linalg/elementwise.js';
import type { OptimizerName } from './optimizers.js';
import type { StopReason } from './stopping.js';

export interface RecordPoint {
  readonly step: number;
  readonly time: number;
  readonly trainLoss: number | null;
  readonly trainError: number | null;
  readonly testLoss: number | null;
  readonly testError: number | null;
  readonly metrics: Record<string, number | null>;
}

export interface MemberResult {
  readonly status: 'completed' | 'diverged';
  readonly stopReason: StopReason;
  readonly steps: number;
  readonly time: number;
  readonly seconds: number;
  readonly final: RecordPoint;
  readonly curve: RecordPoint[];
  readonly series: SeriesPoint[];
}

export interface RecordContext {
  readonly model: Model;
  readonly member: number;
  readonly step: number;
  readonly time: number;
  readonly final: boolean;
  readonly split: DataSplit;
  /**
   * How the parameters move: the optimizer, and per weight layer the step applied to the stored
   * weights' gradient (learning rate × layer rate × the parametrization's lrScale; 0 when frozen).
   * For gradientFlow the steps are per unit of time; the loss trained on. Absent outside a trainer
   * (e.g. a snapshot).
   */
  readonly dynamics?: { readonly optimizer: OptimizerName; readonly stepSizes: Float64Array; readonly loss: Loss };
  /** The member is recorded because it diverged: its state may be non-finite or huge. */
  readonly diverged?: boolean;
}

/** A vector recorded at one step (a spectrum, per-neuron values). */
export interface SeriesPoint {
  readonly name: string;
  readonly step: number;
  readonly values: readonly number[];
}

/**
 * Observes a member at each recording point: the numbers it returns are stored with the point,
 * the vectors as series.
 */
export type RecordHook = (context: RecordContext) => Record<string, number | null | ArrayLike<number>>;
