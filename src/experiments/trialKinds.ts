/**
 * Trial kinds, each a registered value the run layer dispatches on without knowing what it computes:
 * which specs it takes, which trials may run together as one job, and how a job runs. An ensemble
 * trains the members of many trials in one pass; a comparison trains several nets of its own.
 */
import { getBackend } from '../linalg/index.js';
import { familyOf } from '../models/families.js';
import { trainEnsemble } from '../train/trainer.js';
import type { MemberResult } from '../train/records.js';
import { runComparison } from './comparison.js';
import { buildData, buildModel, ensembleKey, memberOverrideOf, runEnsembleTrial, trainingConfig, type TrialOptions } from './trial.js';
import type { TrialSpec } from './trialSpec.js';

export interface TrialKind {
  readonly name: string;
  /** Whether a spec is a trial of this kind (the first kind in TRIAL_KINDS that takes it runs it). */
  takes(spec: TrialSpec): boolean;
  /** Trials with one key may run as one job (a key of its own id: never grouped). */
  groupKey(spec: TrialSpec, id: string): string;
  /** Runs one job, trials of one group key, and gives each trial's result in order. */
  run(specs: readonly TrialSpec[], options: TrialOptions): MemberResult[];
}

/** A comparison trial: the spec's model wide, a second wide copy and narrow copies, compared. */
function runComparisonTrial(spec: TrialSpec, options: TrialOptions = {}): MemberResult {
  const comparison = spec.comparison;
  if (!comparison) throw new Error('internal: runComparisonTrial without a comparison');
  const family = familyOf(spec.model);
  const width = family.widthOf(spec.model);
  if (width instanceof Error) throw new Error(`comparison: ${width.message}`);
  const narrowModel = family.withWidthFraction(spec.model, comparison.widthFraction);
  const split = buildData(spec);
  const backend = options.backend ?? getBackend();
  return runComparison(
    {
      comparison,
      split,
      seed: spec.model.initSeed ?? spec.seed,
      width,
      narrowWidth: family.widthOf(narrowModel) as number,
      metrics: spec.metrics,
      build: (narrow, seeds, b) => buildModel(narrow ? { ...spec, model: narrowModel } : spec, split, seeds.map((initSeed) => ({ initSeed })), b),
      train: (model, hooks) => trainEnsemble(model, split, trainingConfig(spec), { seed: spec.seed, hooks: [...(hooks ?? []), ...(options.hooks ?? [])] }),
    },
    backend,
  );
}

const comparisonKind: TrialKind = {
  name: 'comparison',
  takes: (spec) => spec.comparison !== undefined,
  groupKey: (_spec, id) => `comparison:${id}`,
  run(specs, options) {
    if (specs.length !== 1) throw new Error('internal: a comparison job of more than one trial');
    return [runComparisonTrial(specs[0], options)];
  },
};

const ensembleKind: TrialKind = {
  name: 'ensemble',
  takes: () => true,
  groupKey: (spec) => ensembleKey(spec),
  run: (specs, options) => runEnsembleTrial(specs[0], specs.map(memberOverrideOf), options).results,
};

export const TRIAL_KINDS: readonly TrialKind[] = [comparisonKind, ensembleKind];

export function trialKindOf(spec: TrialSpec): TrialKind {
  const kind = TRIAL_KINDS.find((k) => k.takes(spec));
  if (!kind) throw new Error('internal: no trial kind takes this spec');
  return kind;
}

/** One trial of any kind, alone. */
export function runTrial(spec: TrialSpec, options: TrialOptions = {}): MemberResult {
  return trialKindOf(spec).run([spec], options)[0];
}
