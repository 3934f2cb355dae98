/** `featlab train`: one trial from a preset, a JSON config and flags, with a readable summary. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ACTIVATIONS, LOSSES } from '../linalg/elementwise.js';
import { getBackend } from '../linalg/index.js';
import { INIT_SCHEMES } from '../models/mlp.js';
import { PARAMETRIZATIONS } from '../models/parametrization.js';
import { SYNTHETIC_TASKS } from '../data/synthetic.js';
import { OPTIMIZERS } from '../train/optimizers.js';
import type { MemberResult } from '../train/trainer.js';
import { PRESET_NAMES, PRESETS, type PresetName } from '../experiments/presets.js';
import { deepMerge, setPath } from '../experiments/paths.js';
import { parseTrialSpec, type TrialSpec } from '../experiments/trialSpec.js';
import { runTrial } from '../experiments/trial.js';
import { UsageError } from './errors.js';
import { formatNumber, table } from './format.js';

/** A flag's text as the spec wants it: numbers and booleans parsed, the rest left for validation. */
function parseValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (trimmed !== '' && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  if (/^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
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

/** Each flag and the spec field it writes. */
const FLAG_FIELDS: readonly [flag: string, path: string, list?: boolean][] = [
  ['seed', 'seed'],
  ['activation', 'model.activation'],
  ['parametrization', 'model.parametrization'],
  ['init', 'model.init'],
  ['initScale', 'model.initScale'],
  ['outputScale', 'model.outputScale'],
  ['bias', 'model.bias'],
  ['centerOutput', 'model.centerOutput'],
  ['dtype', 'model.dtype'],
  ['task', 'data.task'],
  ['n', 'data.n'],
  ['nTest', 'data.nTest'],
  ['inputDim', 'data.inputDim'],
  ['labelNoise', 'data.labelNoise.flip'],
  ['loss', 'training.loss'],
  ['optimizer', 'training.optimizer'],
  ['lr', 'training.learningRate'],
  ['layerLrs', 'training.layerLearningRates', true],
  ['batchSize', 'training.batchSize'],
  ['maxSteps', 'training.stop.maxSteps'],
  ['maxTime', 'training.stop.maxTime'],
  ['targetRisk', 'training.stop.targetTrainRisk'],
  ['interpolation', 'training.stop.interpolation'],
];

export function specFromFlags(flags: TrainFlags): TrialSpec {
  let spec: unknown = {};
  if (flags.preset !== undefined) {
    if (!(PRESET_NAMES as string[]).includes(flags.preset)) throw new UsageError(`--preset: got "${flags.preset}"; allowed: ${PRESET_NAMES.join(', ')}`);
    spec = deepMerge(spec, PRESETS[flags.preset as PresetName]);
  }
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.config, 'utf8');
    } catch {
      throw new UsageError(`--config: cannot read the file "${flags.config}"`);
    }
    try {
      spec = deepMerge(spec, JSON.parse(text));
    } catch (e) {
      throw new UsageError(`--config: "${flags.config}" is not valid JSON (${(e as Error).message})`);
    }
  }
  for (const [flag, path, list] of FLAG_FIELDS) {
    const value = flags[flag];
    if (value === undefined) continue;
    spec = setPath(spec, path, typeof value === 'string' ? (list ? parseList(value) : parseValue(value)) : value);
  }
  if (flags.width !== undefined || flags.depth !== undefined) {
    const width = parseValue(String(flags.width ?? 100));
    const depth = Number(flags.depth ?? 1);
    if (!Number.isInteger(depth) || depth < 1) throw new UsageError(`--depth: must be a positive integer (number of hidden layers), got "${String(flags.depth)}"`);
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
  const widths = [spec.data.inputDim, ...m.hiddenWidths, '·'].join('-');
  const t = spec.training;
  return [
    `model     ${m.hiddenWidths.length + 1}-layer ${m.activation} net ${widths}, ${m.parametrization} parametrization, ${m.init} init × ${JSON.stringify(m.initScale)}, outputScale ${m.outputScale} (FLS ${formatNumber(1 / m.outputScale)})`,
    `data      ${spec.data.task}, n = ${spec.data.n} (test ${spec.data.nTest}), d = ${spec.data.inputDim}, seed ${spec.seed}`,
    `training  ${t.optimizer}, ${t.loss} loss, learning rate ${t.learningRate}, ${spec.model.dtype}, backend ${backend}`,
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
  ].join('\n');
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('train one model and print its loss curve and final numbers')
    .addOption(new Option('--preset <name>', 'start from a named trial').choices(PRESET_NAMES))
    .option('--config <file>', 'a JSON trial spec (fields: seed, model, data, training)')
    .option('--set <field=value>', 'set any spec field by its dotted path (repeatable)', collect)
    .option('--seed <int>', 'trial seed (data, init and minibatches)', '0')
    .option('--width <int>', 'hidden width (every hidden layer)')
    .option('--depth <int>', 'number of hidden layers')
    .addOption(new Option('--activation <name>', 'activation').choices(ACTIVATIONS))
    .addOption(new Option('--parametrization <name>', 'parametrization').choices(PARAMETRIZATIONS))
    .addOption(new Option('--init <scheme>', 'initialization scheme').choices(INIT_SCHEMES))
    .option('--init-scale <s>', 'init scale (one number, or the spec takes one per layer)')
    .option('--output-scale <alpha>', 'output scale alpha; feature learning strength = 1/alpha')
    .option('--bias', 'hidden biases')
    .option('--center-output', 'train f − f₀ (subtract the initial function)')
    .addOption(new Option('--dtype <type>', 'floating point type').choices(['float64', 'float32']))
    .addOption(new Option('--task <name>', 'synthetic task').choices(SYNTHETIC_TASKS))
    .option('--n <int>', 'training points')
    .option('--n-test <int>', 'test points')
    .option('--input-dim <int>', 'input dimension d')
    .option('--label-noise <fraction>', 'fraction of training labels flipped')
    .addOption(new Option('--loss <name>', 'loss').choices(LOSSES))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(OPTIMIZERS))
    .option('--lr <eta>', 'learning rate (gradientFlow: first step)')
    .option('--layer-lrs <list>', 'per-layer learning-rate multipliers, e.g. 1,0.1')
    .option('--batch-size <int>', 'minibatch size (sgd, adam)')
    .option('--max-steps <int>', 'stop after this many steps')
    .option('--max-time <t>', 'stop at this continuous time (lr × steps)')
    .option('--target-risk <eps>', 'stop when the training loss reaches eps')
    .option('--interpolation', 'stop when every training point is fitted')
    .option('--json', 'print a machine-readable JSON result')
    .action((flags: TrainFlags) => {
      const spec = specFromFlags(flags);
      const backend = getBackend();
      const result = runTrial(spec, { backend });
      if (flags.json) process.stdout.write(`${JSON.stringify({ spec, backend: backend.name, result }, null, 2)}\n`);
      else process.stdout.write(`${summary(spec, result, backend.name)}\n`);
    });
  return cmd;
}
