/**
 * The one schema of a trial (model, data, training, seed): validation, defaults, and the field names
 * the CLI and error messages use. Unknown fields are errors.
 */
import { z } from 'zod';
import { LOSSES } from '../linalg/elementwise.js';
import { modelSchema } from '../models/families.js';
import { LEARNING_RATE_SCALINGS } from '../models/strength.js';
import { INPUT_DISTRIBUTIONS, SYNTHETIC_DEFAULTS, SYNTHETIC_TASKS } from '../data/synthetic.js';
import { REAL_DATASETS } from '../data/realDatasetNames.js';
import { adamSchema, OPTIMIZERS } from '../train/optimizers.js';
import { gradientFlowSchema } from '../train/gradientFlow.js';
import { stopSchema } from '../train/stopping.js';
import { metricRequestSchema } from '../metrics/registry.js';
import { comparisonSchema } from './comparison.js';

const positiveInt = z.number().int().min(1);
const positive = z.number().positive().finite();
const nonNegative = z.number().min(0).finite();
const probability = z.number().min(0).max(1);

export const labelNoiseSchema = z.strictObject({
  flip: probability.default(0),
  additive: nonNegative.default(0),
  onTest: z.boolean().default(false),
});

const d = SYNTHETIC_DEFAULTS;
export const dataSchema = z.strictObject({
  /** A real data set (its files as `featlab data ls` shows); the synthetic `task` is used when absent. */
  name: z.enum(REAL_DATASETS).optional(),
  /** Real data: class indices to keep; two classes become ±1 labels (first −1, second +1). */
  classes: z.array(z.number().int().min(0)).min(2).optional(),
  /** Real data: n/k points of each of the k classes (or n at random). */
  perClass: z.boolean().default(true),
  /** Real data: none, center, or global (center, then one overall scale) from the training statistics. */
  standardize: z.enum(['none', 'center', 'global']).default('global'),
  /** Real data: a random Gaussian projection or PCA to `dim` features. */
  projection: z.strictObject({ kind: z.enum(['random', 'pca']), dim: positiveInt }).optional(),
  /** Real data: every input scaled to unit norm (after the rest). */
  unitNorm: z.boolean().default(false),
  task: z.enum(SYNTHETIC_TASKS).default('teacher'),
  n: positiveInt.default(d.n),
  nTest: z.number().int().min(0).default(d.nTest),
  inputDim: positiveInt.default(d.inputDim),
  inputs: z.enum(INPUT_DISTRIBUTIONS).default(d.inputs),
  correlation: z.number().min(0).max(1).default(d.correlation),
  teacherWidth: positiveInt.default(d.teacherWidth),
  teacherDirections: z.array(z.array(z.number().finite()).min(1)).min(1).optional(),
  labels: z.enum(['sign', 'value']).default(d.labels),
  margin: nonNegative.default(d.margin),
  spread: nonNegative.default(d.spread),
  slope: z.number().finite().default(d.slope),
  multiplicationWeight: z.number().finite().default(d.multiplicationWeight),
  inputNoise: nonNegative.default(d.inputNoise),
  /** The images task's generator (synthetic.ts): side, channels, latent dimension, classes; the input dimension is channels·side². */
  images: z
    .strictObject({ side: positiveInt.max(512).optional(), channels: positiveInt.max(64).optional(), latentDim: positiveInt.max(10_000).optional(), classes: z.number().int().min(2).max(1000).optional() })
    .optional(),
  /** The clusters task's mixture (synthetic.ts): how many clusters, and how many classes they carry (cluster k has class k mod classes); `spread` is the noise. */
  clusters: z.strictObject({ count: positiveInt.max(100_000).optional(), classes: z.number().int().min(2).max(1000).optional() }).optional(),
  /** The gaussianMixture task (synthetic.ts): x = κ·y·s + σ·z; its direction s is teacherDirections' first row (random where absent). */
  mixture: z.strictObject({ kappa: positive.optional(), sigma: positive.optional() }).optional(),
  /** additionMultiplication: z₂ ~ N(0, σ²) instead of ±1, so the product decides only the points near z₁ + z₂ = 0. */
  additionSpread: positive.optional(),
  labelNoise: labelNoiseSchema.prefault({}),
});


export const trainingSchema = z.strictObject({
  loss: z.enum(LOSSES).default('logistic'),
  optimizer: z.enum(OPTIMIZERS).default('gd'),
  learningRate: positive.default(0.1),
  /** strength: η times a factor of the init and output scales that keeps the pace across FLS (models/strength.ts); absent = none. */
  learningRateScaling: z.enum(LEARNING_RATE_SCALINGS).optional(),
  layerLearningRates: z.array(nonNegative).min(1).optional(),
  batchSize: positiveInt.optional(),
  adam: adamSchema.prefault({}),
  gradientFlow: gradientFlowSchema.prefault({}),
  stop: stopSchema.prefault({}),
  record: z.strictObject({ pointsPerDecade: positiveInt.default(10) }).prefault({}),
});

export const trialSchema = z.strictObject({
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  model: modelSchema.prefault({}),
  data: dataSchema.prefault({}),
  training: trainingSchema.prefault({}),
  /** Registered metrics to record (featlab metrics lists them). */
  metrics: z.array(metricRequestSchema).default([]),
  /** Train this model wide, a second wide copy and narrow nets, and compare their features (seed 004). */
  comparison: comparisonSchema.optional(),
});

export type TrialSpec = z.output<typeof trialSchema>;
export type TrialInput = z.input<typeof trialSchema>;

/** A spec that failed validation: one line per problem, each naming the field. */
export class SpecError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'SpecError';
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON has no spelling for these (it would print null).
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One readable line per zod issue: "field.path: what is wrong (got X)". */
export function formatIssues(error: z.ZodError, input: unknown, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${path ? `${path}.` : ''}${k}: unknown field`).join('\n');
    const got = describe(valueAt(input, issue.path));
    if (issue.code === 'invalid_value') return `${path}: got ${got}; allowed: ${issue.values.map((v) => String(v)).join(', ')}`;
    return `${path || '(spec)'}: ${issue.message.replace(/^Invalid input: /, '')} (got ${got})`;
  });
}

export function parseTrialSpec(input: unknown): TrialSpec {
  const result = trialSchema.safeParse(input);
  if (!result.success) throw new SpecError(formatIssues(result.error, input).flatMap((l) => l.split('\n')));
  return result.data;
}
