/** `featlab train`: one trial from a preset, a JSON config and flags, with a readable summary. */
import { BUDGET_REASONS, convergenceRules } from '../train/stopping.js';
import { featureLearningStrength, LEARNING_RATE_SCALINGS, modelStrengthKnobs, strengthLearningRateFactor } from '../models/strength.js';
import { Command, Option } from 'commander';
import { ACTIVATIONS, LOSSES } from '../linalg/elementwise.js';
import { getBackend } from '../linalg/index.js';
import { INIT_SCHEMES } from '../models/mlp/index.js';
import { PARAMETRIZATIONS } from '../models/parametrization.js';
import { familyOf } from '../models/families.js';
import { SYNTHETIC_TASKS, syntheticInputDim } from '../data/synthetic.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import type { MemberResult } from '../train/records.js';
import { PRESET_NAMES, PRESETS, type PresetName } from '../experiments/presets.js';
import { deepMerge, getPath, isPlainObject, setPath } from '../experiments/paths.js';
import { parseJsonText } from '../experiments/jsonText.js';
import { readSpecText } from '../experiments/experimentSpec.js';
import { parseTrialSpec, SpecError, type TrialSpec } from '../experiments/trialSpec.js';
import { sweepProblems } from '../experiments/feasibility.js';
import { addLimitOptions, limitsOf } from './experimentCommands.js';
import { runTrial } from '../experiments/trialKinds.js';
import { UsageError } from './errors.js';
import { formatNumber, table } from './format.js';

/** A number as a person writes one in decimal: no hexadecimal, binary or octal, no spaces around it. */
const DECIMAL_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A flag's text as the spec wants it: decimal numbers and booleans parsed, the rest left for validation (which names the field). */
function parseValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (DECIMAL_NUMBER.test(text)) return Number(text);
  if (/^[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function parseList(text: string): unknown[] {
  return text.split(',').map(parseValue);
}

interface TrainFlags {
  preset?: string;
  config?: string;
  set?: string[];
  json?: boolean;
  [flag: string]: unknown;
}

interface FlagSpec {
  /** Commander's flag text, e.g. "--init-scale <s>". */
  readonly flags: string;
  readonly description: string;
  /** The spec field the flag writes (its default is shown in --help). */
  readonly path?: string;
  readonly choices?: readonly string[];
  /** The value is a comma-separated list. */
  readonly list?: boolean;
}

/** Every flag of `featlab train`, the spec field it writes and its allowed values. */
const FLAGS: readonly FlagSpec[] = [
  { flags: '--seed <int>', description: 'trial seed (data, init and minibatches)', path: 'seed' },
  { flags: '--width <int>', description: 'hidden width of every hidden layer', path: 'model.hiddenWidths' },
  { flags: '--depth <int>', description: 'number of hidden layers (1 = a two-layer net)' },
  { flags: '--activation <name>', description: 'activation', path: 'model.activation', choices: ACTIVATIONS },
  { flags: '--parametrization <name>', description: 'parametrization', path: 'model.parametrization', choices: PARAMETRIZATIONS },
  { flags: '--init <scheme>', description: 'initialization scheme', path: 'model.init', choices: INIT_SCHEMES },
  { flags: '--init-scale <s>', description: 'init scale of every layer (a spec may give one per layer)', path: 'model.initScale' },
  { flags: '--output-scale <alpha>', description: 'output scale alpha (f = alpha·net); feature learning strength = 1/(alpha·initScale^L)', path: 'model.outputScale' },
  { flags: '--bias', description: 'hidden biases', path: 'model.bias' },
  { flags: '--center-output', description: 'train f − f₀ (the initial function subtracted)', path: 'model.centerOutput' },
  { flags: '--dtype <type>', description: 'floating point type', path: 'model.dtype', choices: ['float64', 'float32'] },
  { flags: '--task <name>', description: 'synthetic task', path: 'data.task', choices: SYNTHETIC_TASKS },
  { flags: '--n <int>', description: 'training points', path: 'data.n' },
  { flags: '--n-test <int>', description: 'test points', path: 'data.nTest' },
  { flags: '--input-dim <int>', description: 'input dimension d', path: 'data.inputDim' },
  { flags: '--label-noise <fraction>', description: 'fraction of training labels flipped', path: 'data.labelNoise.flip' },
  { flags: '--loss <name>', description: 'loss', path: 'training.loss', choices: LOSSES },
  { flags: '--optimizer <name>', description: 'optimizer', path: 'training.optimizer', choices: OPTIMIZERS },
  { flags: '--lr <eta>', description: 'learning rate (gradientFlow: the first step)', path: 'training.learningRate' },
  { flags: '--lr-scaling <mode>', description: 'strength: multiply the learning rate by the factor that keeps the pace across feature learning strengths', path: 'training.learningRateScaling', choices: LEARNING_RATE_SCALINGS },
  { flags: '--layer-lrs <list>', description: 'per-layer learning-rate multipliers, e.g. 1,0.1 (default: all 1)', path: 'training.layerLearningRates', list: true },
  { flags: '--batch-size <int>', description: 'minibatch size (sgd; adam when given)', path: 'training.batchSize' },
  { flags: '--max-steps <int>', description: 'stop after this many steps', path: 'training.stop.maxSteps' },
  { flags: '--max-epochs <int>', description: 'stop after this many passes over the training set', path: 'training.stop.maxEpochs' },
  { flags: '--max-time <t>', description: 'stop at this continuous time (learning rate × steps)', path: 'training.stop.maxTime' },
  { flags: '--target-risk <eps>', description: 'stop when the training loss reaches eps', path: 'training.stop.targetTrainRisk' },
  { flags: '--target-accuracy <fraction>', description: 'stop when this fraction of training points is fitted (minibatches: at an epoch end)', path: 'training.stop.targetTrainAccuracy' },
  { flags: '--interpolation', description: 'stop when every training point is fitted', path: 'training.stop.interpolation' },
];

/** The option's key as commander stores it: "--init-scale <s>" → "initScale". */
function optionKey(flags: string): string {
  return flags
    .split(' ')[0]
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function specFromFlags(flags: TrainFlags): TrialSpec {
  let spec: unknown = {};
  if (flags.preset !== undefined) {
    if (!(PRESET_NAMES as string[]).includes(flags.preset)) throw new UsageError(`--preset: got "${flags.preset}"; allowed: ${PRESET_NAMES.join(', ')}`);
    spec = deepMerge(spec, PRESETS[flags.preset as PresetName]);
  }
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readSpecText(flags.config);
    } catch (e) {
      throw new UsageError(`--config: ${(e as Error).message}`);
    }
    const value = parseJsonText(text, `--config ${flags.config}`);
    if (!isPlainObject(value)) throw new UsageError(`--config: ${flags.config} holds ${Array.isArray(value) ? 'a list' : `a ${value === null ? 'null' : typeof value}`}; a trial spec is an object with seed, model, data, training`);
    spec = deepMerge(spec, value);
  }
  for (const flag of FLAGS) {
    const value = flags[optionKey(flag.flags)];
    if (value === undefined || flag.path === undefined || flag.path === 'model.hiddenWidths') continue;
    spec = setPath(spec, flag.path, typeof value === 'string' ? (flag.list ? parseList(value) : parseValue(value)) : value);
  }
  if (flags.width !== undefined || flags.depth !== undefined) {
    const current = getPath(spec, 'model.hiddenWidths');
    const width = flags.width !== undefined ? parseValue(String(flags.width)) : Array.isArray(current) ? current[0] : 100;
    const depth = flags.depth === undefined ? 1 : parseValue(String(flags.depth));
    if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1) throw new UsageError(`--depth: must be a positive integer (number of hidden layers), got "${String(flags.depth)}"`);
    spec = setPath(spec, 'model.hiddenWidths', Array.from({ length: depth }, () => width));
  }
  for (const assignment of flags.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set: expected field.path=value, got "${assignment}"`);
    spec = setPath(spec, assignment.slice(0, eq), parseValue(assignment.slice(eq + 1)));
  }
  return parseTrialSpec(spec);
}

function describeSpec(spec: TrialSpec, backend: string): string[] {
  const m = spec.model;
  const layers = familyOf(m).layerCount(m);
  const shape = m.family === 'cnn' ? `cnn ${m.architecture ?? 'of listed layers'}${m.widthMultiplier !== 1 ? ` × width ${m.widthMultiplier}` : ''}` : `net ${[spec.data.name ? '·' : syntheticInputDim(spec.data), ...m.hiddenWidths, '·'].join('-')}`;
  const knobs = modelStrengthKnobs(m, layers);
  const t = spec.training;
  return [
    `model     ${layers}-layer ${m.activation} ${shape}, ${m.parametrization} parametrization, ${m.init} init × ${JSON.stringify(m.initScale)}, outputScale ${m.outputScale} (FLS ${formatNumber(featureLearningStrength(knobs))})`,
    spec.data.name
      ? `data      ${spec.data.name}${spec.data.classes ? ` classes ${spec.data.classes.join(', ')}` : ''}, n = ${spec.data.n} (test ${spec.data.nTest || 'all'})${spec.data.projection ? `, ${spec.data.projection.kind} to ${spec.data.projection.dim} dimensions` : ''}, seed ${spec.seed}`
      : `data      ${spec.data.task}, n = ${spec.data.n} (test ${spec.data.nTest}), d = ${syntheticInputDim(spec.data)}, seed ${spec.seed}`,
    `training  ${t.optimizer}, ${t.loss} loss, learning rate ${t.learningRate}${t.learningRateScaling === 'strength' ? ` × ${formatNumber(strengthLearningRateFactor(knobs))} (scaled with the strength)` : ''}, ${spec.model.dtype}, backend ${backend}`,
  ];
}

export function summary(spec: TrialSpec, result: MemberResult, backend: string): string {
  const rows = result.curve.map((p) => [String(p.step), formatNumber(p.time), formatNumber(p.trainLoss), formatNumber(p.trainError), formatNumber(p.testLoss), formatNumber(p.testError)]);
  const f = result.final;
  return [
    ...describeSpec(spec, backend),
    '',
    table(['step', 'time', 'train loss', 'train err', 'test loss', 'test err'], rows),
    '',
    `stopped   ${result.stopReason} after ${result.steps} steps (time ${formatNumber(result.time)}) in ${result.seconds.toFixed(2)} s`,
    `final     train loss ${formatNumber(f.trainLoss)}, error ${formatNumber(f.trainError)}; test loss ${formatNumber(f.testLoss)}, error ${formatNumber(f.testError)}`,
    ...missedTarget(spec, result),
  ].join('\n');
}

/** One warning line when the run asked for a stop rule and ended on its budget instead. */
function missedTarget(spec: TrialSpec, result: MemberResult): string[] {
  const rules = convergenceRules(spec.training.stop);
  if (rules.length === 0 || !BUDGET_REASONS.includes(result.stopReason)) return [];
  // A small output scale at an unscaled rate moves f by α² per step: the pace, not the budget, is what to change.
  const slowed = spec.training.learningRateScaling !== 'strength' && spec.model.outputScale < 1;
  const remedy = slowed ? `; with output scale ${spec.model.outputScale} the steps are slow: --lr-scaling strength co-scales the learning rate` : '';
  return [`warning   ${rules.join(' / ')} did not fire: the run hit its ${result.stopReason} budget, so these are not converged values (raise training.stop.${result.stopReason}${remedy})`];
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function trainCommand(): Command {
  const defaults = parseTrialSpec({});
  const cmd = new Command('train')
    .description('train one model and print its loss curve and final numbers')
    .addOption(new Option('--preset <name>', 'start from a named trial').choices(PRESET_NAMES))
    .option('--config <file>', 'a JSON trial spec (fields: seed, model, data, training)')
    .option('--set <field=value>', 'set any spec field by its dotted path (repeatable)', collect);
  for (const flag of FLAGS) {
    const fallback = flag.path === undefined ? undefined : getPath(defaults, flag.path);
    const shown = flag.path === 'model.hiddenWidths' ? (fallback as number[])[0] : fallback;
    const option = new Option(flag.flags, shown === undefined ? flag.description : `${flag.description} (default: ${JSON.stringify(shown)})`);
    cmd.addOption(flag.choices ? option.choices(flag.choices) : option);
  }
  return addLimitOptions(cmd)
    .option('--json', 'print a machine-readable JSON result')
    .action((flags: TrainFlags) => {
      const spec = specFromFlags(flags);
      const problems = sweepProblems([{ position: 0, id: '', spec, point: {} }], limitsOf(flags as { maxTrials?: string; maxMemory?: string }));
      if (problems.length) throw new SpecError(problems);
      const backend = getBackend();
      const result = runTrial(spec, { backend });
      if (flags.json) process.stdout.write(`${JSON.stringify({ spec, backend: backend.name, result }, null, 2)}\n`);
      else process.stdout.write(`${summary(spec, result, backend.name)}\n`);
    });
}
