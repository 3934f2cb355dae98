/**
 * A trial is a pure function of its spec: data, model and training built from named random streams
 * of the seed, trained, summarized. Members of one ensemble differ only in init seed, init scale,
 * output scale and learning rate, and train together in one pass.
 */
import type { Backend } from '../linalg/backend.js';
import { getBackend } from '../linalg/index.js';
import { convert } from '../linalg/matrix.js';
import { familyOf, type ModelData } from '../models/families.js';
import type { MemberConfig, Model } from '../models/model.js';
import { generateSynthetic } from '../data/synthetic.js';
import { realDataSplit } from '../data/real.js';
import type { DataSplit } from '../data/dataset.js';
import { trainEnsemble, type TrainingConfig } from '../train/trainer.js';
import type { MemberResult, RecordHook } from '../train/records.js';
import { canonicalJson } from './canonicalJson.js';
import { metricsHook } from '../metrics/registry.js';
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
  /** Called as each trial of an ensemble job stops (its index in the job, its result); a comparison calls nothing early. */
  readonly onMemberDone?: (member: number, result: MemberResult) => void;
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

export function trainingConfig(spec: TrialSpec): TrainingConfig {
  return spec.training;
}

/** What a model of a spec is built for: the data's shape and its training inputs (some inits read them). */
export function modelData(spec: TrialSpec, split: DataSplit): ModelData {
  const train = split.train;
  return { inputDim: train.inputs.cols, outputDim: train.kind === 'classes' ? train.classes : train.targetDim, trainInputs: train.inputs, directions: split.directions, task: spec.data.name ?? spec.data.task, imageShape: split.imageShape };
}

/** Builds the ensemble of a spec by its family, one member per override (one member, the spec's own, by default). */
export function buildModel(spec: TrialSpec, split: DataSplit, overrides: readonly MemberOverride[] = [{}], backend: Backend = getBackend()): Model {
  const members: MemberConfig[] = overrides.map((o) => ({
    seed: o.initSeed ?? spec.model.initSeed ?? spec.seed,
    initScale: o.initScale ?? spec.model.initScale,
    outputScale: o.outputScale ?? spec.model.outputScale,
  }));
  return familyOf(spec.model).build(spec.model, members, modelData(spec, split), backend);
}

export interface TrialRun {
  readonly model: Model;
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
    onMemberDone: options.onMemberDone,
  });
  return { model, split, results };
}

/**
 * The fields in which members of one ensemble may differ: the one list that groups trials into an
 * ensemble (ensembleKey) and splits an ensemble into its trials' members (memberOverrideOf).
 */
const MEMBER_FIELDS = [
  ['model', 'initSeed'],
  ['model', 'initScale'],
  ['model', 'outputScale'],
  ['training', 'learningRate'],
] as const satisfies readonly (readonly ['model' | 'training', keyof MemberOverride])[];

/** The fields in which members of one ensemble may differ, taken out of a spec. */
export function memberOverrideOf(spec: TrialSpec): MemberOverride {
  const override: Record<string, unknown> = {};
  for (const [part, field] of MEMBER_FIELDS) override[field] = (spec[part] as Record<string, unknown>)[field];
  return { ...(override as MemberOverride), initSeed: spec.model.initSeed ?? spec.seed };
}

/** Trials with equal keys can train as one ensemble and give the numbers they give alone. */
export function ensembleKey(spec: TrialSpec): string {
  const parts: Record<'model' | 'training', Record<string, unknown>> = { model: { ...spec.model }, training: { ...spec.training } };
  for (const [part, field] of MEMBER_FIELDS) delete parts[part][field];
  return canonicalJson({ ...spec, ...parts });
}
