/**
 * A feature comparison trial (Duzgun, Jelassi & Li 2024). Trained: M₁ and M₁′ (the spec's width m,
 * two init seeds) as one ensemble; 2U narrow nets of width round(α·m) as another, the first U
 * concatenated into S (U = U* = 1/α: matched feature count), the next U into S′, and M_α, the first
 * member of S′, a narrow net S does not contain. Per trial (seed), on the trial's test points:
 *   Fig. 1: FSE(S → M₁) against FSE(M₁′ → M₁); gap.wide = their difference (the feature span gap);
 *   Fig. 2: FSE(M₁ → S) against FSE(S′ → S); gap.narrow = their difference; and the paper's red
 *           curve FSE(S → M_α) beside FSE(M₁ → M_α);
 *   Figs. 3–4: linear probes on M₁, S, [S, R(S → M₁)] and [M₁, R(M₁ → S)], R(A → B) = B − Θ̂ᵀA;
 *   and the output ensemble of S's narrow nets against M₁ (Vyas et al. 2023's baseline: is a wide net
 *   more than an ensemble of its narrow copies?).
 * FSE and the residual maps are features.ts's (centered, validated λ by default). The probes train on
 * the first half of the training points; the residual maps are fitted on the second half, so the
 * residuals a probe sees are out of sample. Still a pure function of its spec.
 */
import { z } from 'zod';
import type { Backend } from '../linalg/backend.js';
import { getBackend } from '../linalg/index.js';
import { DEFAULT_PENALTY_GRID, PROBE_KINDS, concatFeatures, featureSpanFit, fitRidgeMap, probeFit, residualsOf, type SpanFit } from '../metrics/features.js';
import { firstRows, rowRange, type Dense } from '../metrics/matrixOps.js';
import { metricsHook } from '../metrics/registry.js';
import { trainEnsemble } from '../train/trainer.js';
import type { MemberResult, SeriesPoint } from '../train/records.js';
import type { Model } from '../models/model.js';
import { classificationError, type DataSplit, type Dataset } from '../data/dataset.js';
import { allocate } from '../linalg/matrix.js';

const penaltyGrid = z.union([z.number().positive(), z.array(z.number().positive()).min(1)]).default([...DEFAULT_PENALTY_GRID]);
const validationFraction = z.number().gt(0).lt(1).default(0.2);

export const comparisonSchema = z.strictObject({
  /** α: each narrow net has round(α·m) hidden units. */
  widthFraction: z.number().gt(0).lt(1),
  /** U, the number of narrow nets concatenated; 1/α (matched feature count) when absent. */
  copies: z.number().int().min(1).optional(),
  /** The span regressions (FSE and residual maps): centered with an intercept, λ relative (features.ts). */
  span: z
    .strictObject({ centered: z.boolean().default(true), lambda: penaltyGrid, validationFraction })
    .default({ centered: true, lambda: [...DEFAULT_PENALTY_GRID], validationFraction: 0.2 }),
  /** The linear probes: logistic (softmax) by default, the penalty validated over a grid. */
  probe: z
    .strictObject({ kind: z.enum(PROBE_KINDS).default('logistic'), penalty: penaltyGrid, validationFraction, steps: z.number().int().min(1).default(500) })
    .default({ kind: 'logistic', penalty: [...DEFAULT_PENALTY_GRID], validationFraction: 0.2, steps: 500 }),
  /** Training and test points the features are compared on (the first this many of each). */
  samples: z.number().int().min(8).default(1000),
});

export type ComparisonSpec = z.output<typeof comparisonSchema>;

/** Everything the comparison needs from the trial layer, so this module does not depend on it. */
export interface ComparisonContext {
  readonly comparison: ComparisonSpec;
  readonly split: DataSplit;
  readonly seed: number;
  /** The wide net's width and the narrow copies' (the family's width knob at the comparison's fraction). */
  readonly width: number;
  readonly narrowWidth: number;
  /** Builds an ensemble of the wide (or narrow) nets with these init seeds. */
  build(narrow: boolean, initSeeds: readonly number[], backend: Backend): Model;
  train(model: Model, hooks: Parameters<typeof trainEnsemble>[3]['hooks']): MemberResult[];
  readonly metrics: Parameters<typeof metricsHook>[0];
}

interface FeatureSet {
  readonly train: Dense;
  readonly test: Dense;
}

/** Sums a per-member metric over the members at each step (the concatenation's neuron counts). */
function summedCurves(results: readonly MemberResult[]): Map<number, Record<string, number>> {
  const out = new Map<number, Record<string, number>>();
  for (const r of results)
    for (const p of r.curve) {
      const acc = out.get(p.step) ?? {};
      for (const [name, value] of Object.entries(p.metrics)) if (name.startsWith('neurons.aligned.') && value !== null) acc[`narrow.${name}`] = (acc[`narrow.${name}`] ?? 0) + value;
      out.set(p.step, acc);
    }
  return out;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Test error of the output ensemble of the first `copies` members: their outputs f averaged (logits for
 * classes, margins for ±1 labels), then classified as one net's; null for real-valued targets.
 */
function ensembleTestError(model: Model, copies: number, test: Dataset): number | null {
  if (test.kind === 'regression' || test.inputs.rows === 0) return null;
  const active = new Uint8Array(model.ensembleSize).fill(1, 0, copies);
  const outputs = model.forward(test.inputs, allocate(model.ensembleSize * test.inputs.rows * model.outputDim, model.dtype), active);
  const width = test.inputs.rows * model.outputDim;
  const average = new Float64Array(width);
  for (let k = 0; k < copies; k++) for (let i = 0; i < width; i++) average[i] += outputs[k * width + i] / copies;
  return classificationError(test, average, model.outputDim);
}

/**
 * Member k's outputs with its last layer fed other features F (rows × its feature width): α·(F·W_Lᵀ + b_L) − f₀,
 * what its forward pass computes from its own features (f − f₀ where the output is centered).
 */
function headOutputs(model: Model, k: number, features: Dense, inputs: Dense): Float64Array {
  const last = model.layerCount - 1;
  const w = model.effectiveWeights(k, last);
  const b = model.effectiveBiases(k, last);
  const alpha = model.strengthKnobs(k).outputScale;
  const out = model.outputDim;
  const offsets = model.offsetsFor(inputs);
  const result = new Float64Array(features.rows * out);
  for (let i = 0; i < features.rows; i++)
    for (let c = 0; c < out; c++) {
      let h = b ? b[c] : 0;
      for (let j = 0; j < features.cols; j++) h += features.data[i * features.cols + j] * w.data[c * w.cols + j];
      result[i * out + c] = alpha * h - (offsets ? Number(offsets[(k * features.rows + i) * out + c]) : 0);
    }
  return result;
}

export function runComparison(ctx: ComparisonContext, backend: Backend = getBackend()): MemberResult {
  const { comparison: c, split } = ctx;
  const narrowWidth = ctx.narrowWidth;
  const copies = c.copies ?? Math.max(1, Math.round(1 / c.widthFraction));
  const hooks = ctx.metrics.length ? [metricsHook(ctx.metrics)] : [];
  const wide = ctx.build(false, [ctx.seed, ctx.seed + 1_000_003], backend);
  const wideResults = ctx.train(wide, hooks);
  const narrow = ctx.build(
    true,
    Array.from({ length: 2 * copies }, (_, u) => ctx.seed + 2_000_003 + u),
    backend,
  );
  const narrowResults = ctx.train(narrow, hooks);

  const trainInputs = firstRows(split.train.inputs, c.samples);
  const testInputs = firstRows(split.test.inputs, c.samples);
  if (testInputs.rows < 2) throw new Error('comparison: needs test points (data.nTest ≥ 2)');
  const member = (model: Model, k: number): FeatureSet => ({ train: model.features(k, trainInputs), test: model.features(k, testInputs) });
  const concatenation = (from: number): FeatureSet => {
    const sets = Array.from({ length: copies }, (_, u) => member(narrow, from + u));
    return { train: concatFeatures(sets.map((f) => f.train)), test: concatFeatures(sets.map((f) => f.test)) };
  };
  const m1 = member(wide, 0);
  const m1b = member(wide, 1);
  const s = concatenation(0);
  const sb = concatenation(copies);
  const single = member(narrow, copies);

  const spanOptions = { lambda: c.span.lambda, centered: c.span.centered, validationFraction: c.span.validationFraction };
  const fse = (a: FeatureSet, b: FeatureSet): SpanFit => featureSpanFit(backend, a.train, b.train, a.test, b.test, spanOptions);
  const fits = {
    narrowToWide: fse(s, m1),
    wideToWide: fse(m1b, m1),
    wideToNarrow: fse(m1, s),
    narrowToNarrow: fse(sb, s),
    narrowToSingle: fse(s, single),
    wideToSingle: fse(m1, single),
  };

  const metrics: Record<string, number | null> = {
    'compare.wideWidth': ctx.width,
    'compare.narrowWidth': narrowWidth,
    'compare.copies': copies,
    'compare.gap.wide': fits.narrowToWide.error - fits.wideToWide.error,
    'compare.gap.narrow': fits.wideToNarrow.error - fits.narrowToNarrow.error,
  };
  for (const [name, fit] of Object.entries(fits)) {
    metrics[`compare.fse.${name}`] = fit.error;
    metrics[`compare.lambda.${name}`] = fit.lambda;
  }

  if (split.train.kind !== 'regression') {
    // Probes train on the first half of the training points, residual maps are fitted on the second.
    const half = Math.floor(trainInputs.rows / 2);
    const probeRows = (f: Dense) => rowRange(f, 0, half);
    const mapRows = (f: Dense) => rowRange(f, half, f.rows);
    const classes = split.train.kind === 'classes' ? split.train.classes : 2;
    const labelsTrain = split.train.targets.subarray(0, half);
    const labelsTest = split.test.targets.subarray(0, testInputs.rows);
    const probe = (name: string, f: FeatureSet) => {
      const fit = probeFit(backend, probeRows(f.train), labelsTrain, f.test, labelsTest, classes, c.probe);
      metrics[`compare.probe.${name}`] = fit.accuracy;
      metrics[`compare.probePenalty.${name}`] = fit.penalty;
    };
    /** [A, R(A → B)], the map fitted once, on the second half, with the λ FSE(A → B) chose. */
    const withResidual = (a: FeatureSet, b: FeatureSet, lambda: number): FeatureSet => {
      const map = fitRidgeMap(backend, mapRows(a.train), mapRows(b.train), { lambda, centered: c.span.centered });
      return { train: concatFeatures([a.train, residualsOf(map, a.train, b.train)]), test: concatFeatures([a.test, residualsOf(map, a.test, b.test)]) };
    };
    // Stitching: M₁'s own last layer on a linear map of other features, the map fitted on the training rows with
    // the λ FSE chose: the test error of M₁'s head on Θ̂ᵀS (and, as the baseline, on Θ̂ᵀM₁′), against on M₁ itself.
    const points: Dataset = { inputs: testInputs, targets: labelsTest, targetDim: 1, kind: split.test.kind, classes: split.test.classes };
    const stitched = (a: FeatureSet, lambda: number) => {
      const map = fitRidgeMap(backend, a.train, m1.train, { lambda, centered: c.span.centered });
      const mapped = { rows: a.test.rows, cols: m1.test.cols, data: map.predict(a.test) };
      return classificationError(points, headOutputs(wide, 0, mapped, testInputs), wide.outputDim);
    };
    metrics['compare.stitch.wide'] = classificationError(points, headOutputs(wide, 0, m1.test, testInputs), wide.outputDim);
    metrics['compare.stitch.narrow'] = stitched(s, fits.narrowToWide.lambda);
    metrics['compare.stitch.wideSecond'] = stitched(m1b, fits.wideToWide.lambda);
    probe('wide', m1);
    probe('narrow', s);
    probe('narrowWithResidual', withResidual(s, m1, fits.narrowToWide.lambda));
    probe('wideWithResidual', withResidual(m1, s, fits.wideToNarrow.lambda));
  }

  const ownNarrow = narrowResults.slice(0, copies);
  const narrowTrain = ownNarrow.map((r) => r.final.trainError ?? NaN);
  const narrowTest = ownNarrow.map((r) => r.final.testError ?? NaN);
  Object.assign(metrics, {
    'compare.trainError.wide': wideResults[0].final.trainError,
    'compare.testError.wide': wideResults[0].final.testError,
    'compare.trainError.wideSecond': wideResults[1].final.trainError,
    'compare.testError.wideSecond': wideResults[1].final.testError,
    'compare.trainError.narrow': mean(narrowTrain),
    'compare.testError.narrow': mean(narrowTest),
    'compare.trainError.narrowWorst': Math.max(...narrowTrain),
    'compare.testError.narrowEnsemble': ensembleTestError(narrow, copies, split.test),
  });
  const sums = summedCurves(ownNarrow);
  const own = wideResults[0];
  const curve = own.curve.map((p) => ({ ...p, metrics: { ...p.metrics, ...(sums.get(p.step) ?? {}) } }));
  const final = { ...own.final, metrics: { ...own.final.metrics, ...(sums.get(own.final.step) ?? {}), ...metrics } };
  curve[curve.length - 1] = final;
  const series: SeriesPoint[] = [
    ...own.series,
    { name: 'compare.trainErrors.narrow', step: final.step, values: narrowTrain },
    { name: 'compare.testErrors.narrow', step: final.step, values: narrowTest },
  ];
  return { ...own, curve, final, series };
}
