/**
 * A feature comparison trial (Duzgun, Jelassi & Li 2024): one wide net M₁, a second wide net M₁′
 * (another init seed, the baseline), and U narrow nets of width α·m trained as one ensemble; their
 * last-hidden-layer features compared by feature span error both ways, linear probes, and probes
 * with the residual features appended. Still a pure function of its spec.
 */
import { z } from 'zod';
import type { Backend } from '../linalg/backend.js';
import { getBackend } from '../linalg/index.js';
import { concatFeatures, featureResiduals, featureSpanError, ridgeProbeAccuracy } from '../metrics/features.js';
import { firstRows, type Dense } from '../metrics/matrixOps.js';
import { metricsHook } from '../metrics/registry.js';
import { trainEnsemble, type MemberResult } from '../train/trainer.js';
import type { MlpEnsemble } from '../models/mlp.js';
import type { DataSplit } from '../data/dataset.js';

export const comparisonSchema = z.strictObject({
  /** α: each narrow net has round(α·m) hidden units. */
  widthFraction: z.number().gt(0).lt(1),
  /** U, the number of narrow nets concatenated; 1/α (matched feature count) when absent. */
  copies: z.number().int().min(1).optional(),
  /** Ridge penalty of the span regressions and the probes. */
  lambda: z.number().positive().default(1e-3),
  /** Training and test points the features are compared on. */
  samples: z.number().int().min(4).default(1000),
});

export type ComparisonSpec = z.output<typeof comparisonSchema>;

/** Everything the comparison needs from the trial layer, so this module does not depend on it. */
export interface ComparisonContext {
  readonly comparison: ComparisonSpec;
  readonly split: DataSplit;
  readonly seed: number;
  readonly width: number;
  /** Builds an ensemble of the trial's model with this hidden width and these init seeds. */
  build(width: number, initSeeds: readonly number[], backend: Backend): MlpEnsemble;
  train(model: MlpEnsemble, hooks: Parameters<typeof trainEnsemble>[3]['hooks']): MemberResult[];
  readonly metrics: Parameters<typeof metricsHook>[0];
}

function featuresOf(model: MlpEnsemble, member: number, inputs: Dense): Dense {
  return model.features(member, inputs);
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

export function runComparison(ctx: ComparisonContext, backend: Backend = getBackend()): MemberResult {
  const { comparison: c, split } = ctx;
  const narrowWidth = Math.max(1, Math.round(c.widthFraction * ctx.width));
  const copies = c.copies ?? Math.max(1, Math.round(1 / c.widthFraction));
  const hooks = ctx.metrics.length ? [metricsHook(ctx.metrics)] : [];
  // The wide pair trains as one ensemble (two init seeds), the narrow nets as another.
  const wide = ctx.build(ctx.width, [ctx.seed, ctx.seed + 1_000_003], backend);
  const wideResults = ctx.train(wide, hooks);
  const narrow = ctx.build(
    narrowWidth,
    Array.from({ length: copies }, (_, u) => ctx.seed + 2_000_003 + u),
    backend,
  );
  const narrowResults = ctx.train(narrow, hooks);

  const trainInputs = firstRows(split.train.inputs, c.samples);
  const testInputs = firstRows(split.test.inputs, c.samples);
  const m1 = { train: featuresOf(wide, 0, trainInputs), test: featuresOf(wide, 0, testInputs) };
  const m1b = { train: featuresOf(wide, 1, trainInputs), test: featuresOf(wide, 1, testInputs) };
  const s = {
    train: concatFeatures(Array.from({ length: copies }, (_, u) => featuresOf(narrow, u, trainInputs))),
    test: concatFeatures(Array.from({ length: copies }, (_, u) => featuresOf(narrow, u, testInputs))),
  };
  const fse = (a: typeof m1, b: typeof m1) => featureSpanError(backend, a.train, b.train, a.test, b.test, c.lambda);
  const labelsTrain = split.train.targets.subarray(0, trainInputs.rows);
  const labelsTest = split.test.targets.subarray(0, testInputs.rows);
  const classes = split.train.kind === 'classes' ? split.train.classes : 2;
  const canProbe = split.train.kind !== 'regression' && testInputs.rows > 0;
  const probe = (f: typeof m1) => (canProbe ? ridgeProbeAccuracy(backend, f.train, labelsTrain, f.test, labelsTest, classes, c.lambda) : null);
  const withResidual = (a: typeof m1, b: typeof m1) => ({
    train: concatFeatures([a.train, featureResiduals(backend, a.train, b.train, a.train, b.train, c.lambda)]),
    test: concatFeatures([a.test, featureResiduals(backend, a.train, b.train, a.test, b.test, c.lambda)]),
  });
  const meanOf = (values: (number | null)[]) => {
    const v = values.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const metrics = {
    'compare.narrowWidth': narrowWidth,
    'compare.copies': copies,
    'compare.fseNarrowToWide': fse(s, m1),
    'compare.fseWideToNarrow': fse(m1, s),
    'compare.fseWideToWide': fse(m1b, m1),
    'compare.probeWide': probe(m1),
    'compare.probeNarrow': probe(s),
    'compare.probeNarrowWithResidual': probe(withResidual(s, m1)),
    'compare.probeWideWithResidual': probe(withResidual(m1, s)),
    'compare.testErrorWide': wideResults[0].final.testError,
    'compare.testErrorNarrow': meanOf(narrowResults.map((r) => r.final.testError)),
    'compare.trainErrorNarrow': meanOf(narrowResults.map((r) => r.final.trainError)),
  };
  const sums = summedCurves(narrowResults);
  const own = wideResults[0];
  const curve = own.curve.map((p) => ({ ...p, metrics: { ...p.metrics, ...(sums.get(p.step) ?? {}) } }));
  const final = { ...own.final, metrics: { ...own.final.metrics, ...(sums.get(own.final.step) ?? {}), ...metrics } };
  curve[curve.length - 1] = final;
  return { ...own, curve, final };
}
