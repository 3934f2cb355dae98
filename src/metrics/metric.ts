/** What a registered metric is: a name, a cost, typed parameters and a pure function of the state. */
import type { z } from 'zod';
import type { DataSplit } from '../data/dataset.js';
import type { Model } from '../models/model.js';
import type { RecordContext } from '../train/records.js';
import type { TrialSpec } from '../experiments/trialSpec.js';

/** An input a metric has no value for (zero features, too few samples): a clear message, never NaN. */
export class MetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricError';
  }
}

export interface MetricContext {
  readonly model: Model;
  readonly member: number;
  readonly split: DataSplit;
  readonly step: number;
  /** Training time (steps × learning rate, or the flow's time) where the trainer knows it. */
  readonly time?: number;
  readonly final: boolean;
  readonly dynamics?: RecordContext['dynamics'];
  /** Per member and metric, kept across recording points (e.g. the initial kernel). */
  readonly state: Map<string, unknown>;
}

/** Scalars by name (null where undefined) and vectors by name (stored as series). */
export type MetricValues = Record<string, number | null | ArrayLike<number>>;

export interface MetricDefinition<P extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly name: string;
  /** One line: what it measures and the paper and equation it comes from. */
  readonly summary: string;
  /** The cost of one evaluation, in the sizes of the trial. */
  readonly cost: string;
  readonly params: P;
  compute(context: MetricContext, params: z.output<P>): MetricValues;
  /**
   * What the metric needs of a trial that its spec already says it lacks (the model's family or
   * depth, the kind of targets), one line each: refused before anything runs, not stored as null.
   */
  problems?(spec: TrialSpec, params: z.output<P>): string[];
}
