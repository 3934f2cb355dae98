/**
 * A trial is a pure function of its spec: data, model and training built from named random streams
 * of the seed, trained, summarized. Members of one ensemble differ only in init seed, init scale,
 * output scale and learning rate, and train together in one pass.
 */
import type { Backend } from '../linalg/backend.js';
import { getBackend } from '../linalg/index.js';
import { convert } from '../linalg/matrix.js';
import { MlpEnsemble, type MemberConfig, type MlpConfig } from '../models/mlp.js';
import { effectiveInputNorm, placeAtEffectivePoint } from '../models/effectivePoint.js';
import { generateSynthetic } from '../data/synthetic.js';
import { realDataSplit } from '../data/real.js';
import type { DataSplit } from '../data/dataset.js';
import { trainEnsemble, type TrainingConfig } from '../train/trainer.js';
import type { MemberResult, RecordHook } from '../train/records.js';
import { canonicalJson } from './canonicalJson.js';
import { metricsHook } from '../metrics/registry.js';
import { runComparison } from './comparison.js';
import type { TrialSpec } from './trialSpec.js';

export interface MemberOverride {
  readonly initSeed?: number;
  readonly initScale?: number | readonly number[];
  readonly outputScale?: number;
  readonly learningRate?: number;
}

export interface TrialOptions {
  readonly backend?: Backend;
  readonly hooks?: readonly RecordHook[];
}

export function buildData(spec: TrialSpec, backend: Backend = getBackend()): DataSplit {
  const d = spec.data;
  const split = d.name
    ? realDataSplit({ ...d, name: d.name, nTest: d.nTest, projection: d.projection }, spec.seed, backend)
    : generateSynthetic(d, spec.seed);
  const dtype = spec.model.dtype;
  const cast = (s: DataSplit['train']) => ({ ...s, inputs: convert(s.inputs, dtype) });
  return { ...split, train: cast(split.train), test: cast(split.test) };
}

export function modelConfig(spec: TrialSpec, split: DataSplit): MlpConfig {
  const train = split.train;
  return {
    inputDim: train.inputs.cols,
    hiddenWidths: spec.model.hiddenWidths,
    outputDim: train.kind === 'classes' ? train.classes : train.targetDim,
    activation: spec.model.activation,
    leak: spec.model.leak,
    parametrization: spec.model.parametrization,
    bias: spec.model.bias,
    init: spec.model.init,
    centerOutput: spec.model.centerOutput,
    frozenLayers: spec.model.frozenLayers,
    dtype: spec.model.dtype,
  };
}

export function trainingConfig(spec: TrialSpec): TrainingConfig {
  return spec.training;
}

/** Builds the ensemble of a spec, one member per override (one member, the spec's own, by default). */
export function buildModel(spec: TrialSpec, split: DataSplit, overrides: readonly MemberOverride[] = [{}], backend: Backend = getBackend()): MlpEnsemble {
  const members: MemberConfig[] = overrides.map((o) => ({
    seed: o.initSeed ?? spec.model.initSeed ?? spec.seed,
    initScale: o.initScale ?? spec.model.initScale,
    outputScale: o.outputScale ?? spec.model.outputScale,
  }));
  const model = new MlpEnsemble(modelConfig(spec, split), members, backend);
  const point = spec.model.effectiveInit;
  if (point) {
    const e = split.directions;
    if (spec.data.task !== 'line1d' || !e || e.rows !== 1) throw new Error('model.effectiveInit: needs data.task line1d (inputs along one direction)');
    const inputNorm = effectiveInputNorm(split.train.inputs, e.data);
    members.forEach((member, k) => placeAtEffectivePoint(model, k, e.data, inputNorm, point, member.seed));
  }
  return model;
}

export interface TrialRun {
  readonly model: MlpEnsemble;
  readonly split: DataSplit;
  readonly results: MemberResult[];
}

export function runEnsembleTrial(spec: TrialSpec, overrides: readonly MemberOverride[] = [{}], options: TrialOptions = {}): TrialRun {
  const split = buildData(spec);
  const model = buildModel(spec, split, overrides, options.backend);
  const results = trainEnsemble(model, split, trainingConfig(spec), {
    seed: spec.seed,
    learningRates: overrides.map((o) => o.learningRate ?? spec.training.learningRate),
    hooks: spec.metrics.length ? [metricsHook(spec.metrics), ...(options.hooks ?? [])] : options.hooks,
  });
  return { model, split, results };
}

export function runTrial(spec: TrialSpec, options: TrialOptions = {}): MemberResult {
  if (spec.comparison) return runComparisonTrial(spec, options);
  return runEnsembleTrial(spec, [{}], options).results[0];
}

/** A comparison trial: the spec's model wide, a second wide copy and narrow copies, compared. */
export function runComparisonTrial(spec: TrialSpec, options: TrialOptions = {}): MemberResult {
  const comparison = spec.comparison;
  if (!comparison) throw new Error('internal: runComparisonTrial without a comparison');
  if (spec.model.hiddenWidths.length !== 1) throw new Error('comparison: needs a net with one hidden layer (model.hiddenWidths of length 1)');
  const split = buildData(spec);
  const backend = options.backend ?? getBackend();
  return runComparison(
    {
      comparison,
      split,
      seed: spec.model.initSeed ?? spec.seed,
      width: spec.model.hiddenWidths[0],
      metrics: spec.metrics,
      build: (width, seeds, b) => buildModel({ ...spec, model: { ...spec.model, hiddenWidths: [width] } }, split, seeds.map((initSeed) => ({ initSeed })), b),
      train: (model, hooks) => trainEnsemble(model, split, trainingConfig(spec), { seed: spec.seed, hooks: [...(hooks ?? []), ...(options.hooks ?? [])] }),
    },
    backend,
  );
}

/** The fields in which members of one ensemble may differ, taken out of a spec. */
export function memberOverrideOf(spec: TrialSpec): MemberOverride {
  return { initSeed: spec.model.initSeed ?? spec.seed, initScale: spec.model.initScale, outputScale: spec.model.outputScale, learningRate: spec.training.learningRate };
}

/** Trials with equal keys can train as one ensemble and give the numbers they give alone. */
export function ensembleKey(spec: TrialSpec): string {
  const { initSeed: _initSeed, initScale: _initScale, outputScale: _outputScale, ...model } = spec.model;
  const { learningRate: _learningRate, ...training } = spec.training;
  return canonicalJson({ ...spec, model, training });
}
