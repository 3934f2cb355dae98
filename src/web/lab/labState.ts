/**
 * The live lab's whole state as one declarative table of knobs (as TensorFlow Playground's state.ts):
 * each knob has a URL key, a default and its allowed values, so a view is a link; the state maps to
 * a trial spec (what `featlab run` accepts) and a stored trial maps back when the lab can show it.
 */
import { ACTIVATIONS, type Activation } from '../../linalg/elementwise.js';
import { PARAMETRIZATIONS, type Parametrization } from '../../models/parametrization.js';
import { INIT_SCHEMES, type InitScheme } from '../../models/mlp/index.js';
import type { TrialInput, TrialSpec } from '../../experiments/trialSpec.js';

/** The toys of the lab: 2D inputs so the neurons can be drawn in the plane. */
export const LAB_TOYS = ['teacher', 'xor', 'separable', 'linear1d'] as const;
export type LabToy = (typeof LAB_TOYS)[number];

/** The losses of the classification toys (the 1D regression toy always uses the square loss). */
export const LAB_LOSSES = ['logistic', 'square'] as const;
/** The discrete optimizers (gradient flow is the phase page's). */
export const LAB_OPTIMIZERS = ['gd', 'sgd', 'adam'] as const;

export interface LabState {
  readonly toy: LabToy;
  readonly width: number;
  readonly activation: Activation;
  readonly parametrization: Parametrization;
  readonly initScale: number;
  /** alpha: f = alpha·net; with the init scale λ it sets the feature learning strength 1/(alpha·λ²) (models/strength.ts). */
  readonly outputScale: number;
  readonly learningRate: number;
  /** Layer-wise learning rates: multipliers of the first (input) and second (output) layer. */
  readonly rateFirst: number;
  readonly rateSecond: number;
  /** Label flips (classification toys) or additive target noise (linear1d). */
  readonly noise: number;
  readonly n: number;
  /** Teacher neurons of the teacher toy. */
  readonly teachers: number;
  readonly bias: boolean;
  /** Train f − f₀ (model.centerOutput): the random initial function removed. */
  readonly centerOutput: boolean;
  /** Scale the learning rate with the feature learning strength (training.learningRateScaling: strength, η ∝ 1/α² for α > 1). */
  readonly rateWithStrength: boolean;
  /** Loss of the classification toys; linear1d always trains the square loss. */
  readonly loss: (typeof LAB_LOSSES)[number];
  readonly optimizer: (typeof LAB_OPTIMIZERS)[number];
  /** Minibatch size of sgd and adam; at n or above, adam is full batch. */
  readonly batchSize: number;
  readonly init: InitScheme;
  readonly seed: number;
}

interface KnobBase<K extends keyof LabState> {
  readonly key: K;
  readonly label: string;
  readonly fallback: LabState[K];
}
interface ChoiceKnob<K extends keyof LabState> extends KnobBase<K> {
  readonly kind: 'choice';
  readonly values: readonly LabState[K][];
}
interface NumberKnob<K extends keyof LabState> extends KnobBase<K> {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** Drawn on a log slider. */
  readonly log: boolean;
}
interface FlagKnob<K extends keyof LabState> extends KnobBase<K> {
  readonly kind: 'flag';
}
export type Knob = { [K in keyof LabState]: ChoiceKnob<K> | NumberKnob<K> | FlagKnob<K> }[keyof LabState];

const number = <K extends keyof LabState>(key: K, label: string, fallback: LabState[K], min: number, max: number, o: { integer?: boolean; log?: boolean } = {}): NumberKnob<K> => ({
  kind: 'number',
  key,
  label,
  fallback,
  min,
  max,
  integer: o.integer ?? false,
  log: o.log ?? false,
});

export const KNOBS: readonly Knob[] = [
  { kind: 'choice', key: 'toy', label: 'data', fallback: 'teacher', values: LAB_TOYS },
  number('n', 'training points', 100, 4, 2000, { integer: true, log: true }),
  number('teachers', 'teacher neurons', 2, 1, 8, { integer: true }),
  number('noise', 'noise', 0, 0, 0.5),
  number('width', 'hidden width', 20, 1, 1000, { integer: true, log: true }),
  { kind: 'choice', key: 'activation', label: 'activation', fallback: 'relu', values: ACTIVATIONS },
  { kind: 'choice', key: 'parametrization', label: 'parametrization', fallback: 'standard', values: PARAMETRIZATIONS },
  { kind: 'flag', key: 'bias', label: 'biases', fallback: false },
  { kind: 'flag', key: 'centerOutput', label: 'train f − f₀', fallback: false },
  { kind: 'flag', key: 'rateWithStrength', label: 'learning rate tied to FLS', fallback: false },
  { kind: 'choice', key: 'init', label: 'init scheme', fallback: 'gaussian', values: INIT_SCHEMES },
  { kind: 'choice', key: 'loss', label: 'loss (classification)', fallback: 'logistic', values: LAB_LOSSES },
  { kind: 'choice', key: 'optimizer', label: 'optimizer', fallback: 'gd', values: LAB_OPTIMIZERS },
  number('batchSize', 'batch size (sgd, adam)', 32, 1, 2000, { integer: true, log: true }),
  number('initScale', 'init scale', 1, 1e-4, 10, { log: true }),
  number('outputScale', 'output scale α (FLS = 1/(α·λ²))', 1, 1e-3, 1e3, { log: true }),
  number('learningRate', 'learning rate', 0.1, 1e-4, 100, { log: true }),
  number('rateFirst', 'rate × first layer', 1, 1e-3, 1e3, { log: true }),
  number('rateSecond', 'rate × output layer', 1, 1e-3, 1e3, { log: true }),
  number('seed', 'seed', 0, 0, 1e6, { integer: true }),
];

export const DEFAULT_LAB_STATE = Object.fromEntries(KNOBS.map((k) => [k.key, k.fallback])) as unknown as LabState;

/** Knobs whose change keeps the run going (the rest rebuild data and model). */
export const LIVE_KNOBS: readonly (keyof LabState)[] = ['learningRate', 'rateFirst', 'rateSecond'];

export class LabStateError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'LabStateError';
  }
}

/** One knob's value from its text, or the problem naming the allowed values. */
export function readKnob(knob: Knob, text: string): { value?: LabState[keyof LabState]; problem?: string } {
  switch (knob.kind) {
    case 'choice':
      return (knob.values as readonly string[]).includes(text) ? { value: text as LabState[keyof LabState] } : { problem: `${knob.key}: got "${text}"; allowed: ${knob.values.join(', ')}` };
    case 'flag':
      return text === 'true' || text === 'false' ? { value: text === 'true' } : { problem: `${knob.key}: got "${text}"; allowed: true, false` };
    case 'number': {
      const v = Number(text);
      const ok = text.trim() !== '' && Number.isFinite(v) && v >= knob.min && v <= knob.max && (!knob.integer || Number.isInteger(v));
      return ok ? { value: v } : { problem: `${knob.key}: got "${text}"; allowed: ${knob.integer ? 'an integer' : 'a number'} from ${knob.min} to ${knob.max}` };
    }
  }
}

/** Knobs two runs side by side always share: the same data from the same seed. */
export const SHARED_KNOBS: readonly (keyof LabState)[] = ['toy', 'n', 'teachers', 'noise', 'seed'];
/** The knobs a side-by-side run may change. */
export const COMPARABLE_KNOBS: readonly Knob[] = KNOBS.filter((k) => !SHARED_KNOBS.includes(k.key));

/** A side-by-side run: the lab's state with one knob changed (URL: compare=key:value). */
export interface LabComparison {
  readonly key: keyof LabState;
  readonly value: LabState[keyof LabState];
}

/** The comparison of a `compare=key:value` link, or the problem naming the allowed knobs and values. */
export function readComparison(text: string): { comparison?: LabComparison; problem?: string } {
  const cut = text.indexOf(':');
  const key = cut < 0 ? text : text.slice(0, cut);
  const knob = COMPARABLE_KNOBS.find((k) => k.key === key);
  if (!knob || cut < 0) return { problem: `compare: got "${text}"; allowed: knob:value with a knob of ${COMPARABLE_KNOBS.map((k) => k.key).join(', ')}` };
  const { value, problem } = readKnob(knob, text.slice(cut + 1));
  return problem !== undefined ? { problem: `compare: ${problem}` } : { comparison: { key: knob.key, value: value as LabState[keyof LabState] } };
}

export function comparisonText(comparison: LabComparison): string {
  return `${comparison.key}:${String(comparison.value)}`;
}

/** The second run's state: the first's with the compared knob changed. */
export function comparedState(state: LabState, comparison: LabComparison): LabState {
  return { ...state, [comparison.key]: comparison.value };
}

/** Reads the state from URL search parameters: absent and bad knobs take their defaults, each bad one named. */
export function readLabState(params: URLSearchParams): { state: LabState; comparison: LabComparison | null; problems: string[] } {
  const problems: string[] = [];
  const state: Record<string, unknown> = { ...DEFAULT_LAB_STATE };
  const known = new Set<string>([...KNOBS.map((k) => k.key), 'compare']);
  for (const key of params.keys()) if (!known.has(key)) problems.push(`${key}: unknown setting; known: ${[...known].join(', ')}`);
  for (const knob of KNOBS) {
    const text = params.get(knob.key);
    if (text === null) continue;
    const { value, problem } = readKnob(knob, text);
    if (problem) problems.push(problem);
    else state[knob.key] = value;
  }
  const compare = params.get('compare');
  let comparison: LabComparison | null = null;
  if (compare !== null) {
    const read = readComparison(compare);
    if (read.problem !== undefined) problems.push(read.problem);
    else comparison = read.comparison ?? null;
  }
  return { state: state as unknown as LabState, comparison, problems };
}

/** Reads the state from URL search parameters; absent knobs take their defaults, bad ones are errors. */
export function parseLabState(params: URLSearchParams): LabState {
  const { state, problems } = readLabState(params);
  if (problems.length) throw new LabStateError(problems);
  return state;
}

/** Every knob written out, so a link keeps its meaning when defaults change; then the comparison, if any. */
export function labStateParams(state: LabState, comparison: LabComparison | null = null): URLSearchParams {
  const params = new URLSearchParams(KNOBS.map((k): [string, string] => [k.key, String(state[k.key])]));
  if (comparison) params.set('compare', comparisonText(comparison));
  return params;
}

const TASK_OF: Record<LabToy, 'teacher' | 'xor' | 'separable' | 'line1d'> = { teacher: 'teacher', xor: 'xor', separable: 'separable', linear1d: 'line1d' };

/** The minibatch size the trial uses: sgd always has one (at most n), adam only below n (else full batch). */
function labBatchSize(state: LabState): { batchSize?: number } {
  if (state.optimizer === 'sgd') return { batchSize: Math.min(state.batchSize, state.n) };
  return state.optimizer === 'adam' && state.batchSize < state.n ? { batchSize: state.batchSize } : {};
}

/** The trial the lab trains on a 2D toy, for `steps` steps. */
export function labTrialInput(state: LabState, steps: number): TrialInput {
  const regression = state.toy === 'linear1d';
  return {
    seed: state.seed,
    model: {
      hiddenWidths: [state.width],
      activation: state.activation,
      parametrization: state.parametrization,
      bias: state.bias,
      initScale: state.initScale,
      outputScale: state.outputScale,
      centerOutput: state.centerOutput,
      init: state.init,
    },
    data: {
      task: TASK_OF[state.toy],
      inputDim: 2,
      n: state.n,
      nTest: 500,
      // Only the teacher toy reads it; written always so that a spec maps back to the same state.
      teacherWidth: state.teachers,
      ...(state.toy === 'separable' ? { margin: 0.1 } : {}),
      labels: regression ? 'value' : 'sign',
      labelNoise: regression ? { additive: state.noise } : { flip: state.noise },
    },
    training: {
      loss: regression ? 'square' : state.loss,
      optimizer: state.optimizer,
      ...labBatchSize(state),
      learningRate: state.learningRate,
      layerLearningRates: [state.rateFirst, state.rateSecond],
      ...(state.rateWithStrength ? { learningRateScaling: 'strength' as const } : {}),
      stop: { maxSteps: steps },
    },
  };
}

/** An experiment spec of one trial, as `featlab run` reads it. */
export function labExperimentSpec(state: LabState, steps: number, note: string): Record<string, unknown> {
  return {
    name: `lab-${state.toy}`,
    description: `one trial exported from the featlab explorer at step ${steps}${note ? `; ${note}` : ''}`,
    base: labTrialInput(state, steps),
  };
}

/** The lab state of a stored trial (with what the lab does differently), or the reasons it cannot show it. */
export function labStateOfTrial(spec: TrialSpec): { state: LabState; notes: string[] } | { problems: string[] } {
  const problems: string[] = [];
  const toy = (Object.keys(TASK_OF) as LabToy[]).find((t) => TASK_OF[t] === spec.data.task);
  if (spec.data.name) problems.push(`data: the lab runs the synthetic toys only (this trial uses ${spec.data.name})`);
  else if (!toy) problems.push(`data.task: the lab has ${LAB_TOYS.join(', ')} (this trial is ${spec.data.task})`);
  if (spec.data.inputDim !== 2) problems.push(`data.inputDim: the lab draws 2D inputs (this trial has ${spec.data.inputDim})`);
  const model = spec.model;
  if (model.family === 'cnn') return { problems: [...problems, 'model.family: the lab trains fully connected nets (this trial is a cnn)'] };
  if (model.hiddenWidths.length !== 1) problems.push(`model.hiddenWidths: the lab trains one hidden layer (this trial has ${model.hiddenWidths.length})`);
  if (Array.isArray(spec.model.initScale)) problems.push('model.initScale: the lab takes one init scale for both layers');
  if (spec.comparison) problems.push('comparison: the lab trains one net');
  if (problems.length || !toy) return { problems };
  const layerRates = spec.training.layerLearningRates ?? [1, 1];
  const state: LabState = {
    toy,
    width: model.hiddenWidths[0],
    activation: spec.model.activation,
    parametrization: spec.model.parametrization,
    initScale: spec.model.initScale as number,
    outputScale: spec.model.outputScale,
    learningRate: spec.training.learningRate,
    rateFirst: layerRates[0],
    rateSecond: layerRates[1],
    noise: toy === 'linear1d' ? spec.data.labelNoise.additive : spec.data.labelNoise.flip,
    n: spec.data.n,
    teachers: spec.data.teacherWidth,
    bias: spec.model.bias,
    centerOutput: spec.model.centerOutput,
    rateWithStrength: spec.training.learningRateScaling === 'strength',
    loss: spec.training.loss === 'square' ? 'square' : 'logistic',
    optimizer: spec.training.optimizer === 'gradientFlow' ? 'gd' : spec.training.optimizer,
    // adam without a batch size is full batch: n says the same in the lab.
    batchSize: spec.training.batchSize ?? (spec.training.optimizer === 'adam' ? spec.data.n : 32),
    init: model.init,
    seed: spec.seed,
  };
  // Values outside the lab's sliders are named, not clamped silently.
  for (const knob of KNOBS) {
    const { problem } = readKnob(knob, String(state[knob.key]));
    if (problem) problems.push(problem);
  }
  if (problems.length) return { problems };
  const notes: string[] = [];
  if (spec.training.optimizer === 'gradientFlow') notes.push('the lab trains with gradient descent at the first step size (this trial integrated the gradient flow)');
  const loss = toy === 'linear1d' ? 'square' : state.loss;
  if (spec.training.loss !== loss) notes.push(`the lab uses the ${loss} loss on ${toy} (this trial used ${spec.training.loss})`);
  return { state, notes };
}
