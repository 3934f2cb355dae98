/**
 * Trains every member of an ensemble together: one backend call per step for all active members,
 * each member stopping on its own rules. Full-batch GD, minibatch SGD, Adam, and an adaptive
 * Dormand–Prince gradient-flow integrator with per-member step-size control.
 */
import { type LearningRateScaling, strengthLearningRateFactor } from '../models/strength.js';
import { lossAndGradient, type Loss } from '../linalg/elementwise.js';
import { allocate, type FloatArray, type Matrix } from '../linalg/matrix.js';
import { Rng } from '../linalg/rng.js';
import type { Gradients, ManyStepsLoop, Model } from '../models/model.js';
import { classificationError, type DataSplit, type Dataset, misfitFraction } from '../data/dataset.js';
import { lossMismatch } from '../data/targets.js';
import { type AdamConfig, type AdamState, type OptimizerName, STEP_RULES, type StepRuleName } from './optimizers.js';
import { logSpacedSteps } from './schedule.js';
import { GradientFlowIntegrator, type GradientFlowConfig } from './gradientFlow.js';
import type { MemberResult, RecordPoint, RecordHook, SeriesPoint } from './records.js';
import { checkStop, convergenceRules, LossWindow, stepBudget, type StopReason, type StoppingConfig } from './stopping.js';
import { countSteps, throwIfInterrupted } from './interrupt.js';
import { WindowStationarity, type WindowReading } from './windowStationarity.js';

export interface TrainingConfig {
  readonly loss: Loss;
  readonly optimizer: OptimizerName;
  /** Base step size η (gd/sgd/adam); for gradientFlow the first trial step. */
  readonly learningRate: number;
  /** strength: the learning rate times strengthLearningRateFactor of each member's init and output scale. */
  readonly learningRateScaling?: LearningRateScaling;
  /** Per weight layer, multiplies the learning rate (layer-wise learning rates); default all 1. */
  readonly layerLearningRates?: readonly number[];
  /** Minibatch size for sgd (and adam when set); gd is always full batch. */
  readonly batchSize?: number;
  readonly adam: AdamConfig;
  readonly gradientFlow: GradientFlowConfig;
  readonly stop: StoppingConfig;
  readonly record: { readonly pointsPerDecade: number };
}

export interface TrainOptions {
  /** Per member base learning rate (default: config.learningRate for all). */
  readonly learningRates?: readonly number[];
  readonly hooks?: readonly RecordHook[];
  /** Seed of the minibatch order (shared by all members). */
  readonly seed: number;
  /** Go on from where an earlier call with this object stopped, and leave the state here for the next. */
  readonly continuation?: TrainingContinuation;
  /** Called as each member stops, with its result (so a long ensemble's finished members can be stored before the last). */
  readonly onMemberDone?: (member: number, result: MemberResult) => void;
}

/**
 * What one call leaves for the next when a run is trained in pieces (the live lab): each member's step
 * count, Adam's moments and the minibatch stream's position. Calls that go on from it with the same
 * config, with stop.maxSteps counted from the start, give the numbers of one call of the summed length.
 * The plateau rule's window is not carried: a piece starts it afresh.
 */
export class TrainingContinuation {
  steps: Float64Array | null = null;
  adam: AdamState | null = null;
  minibatches: { readonly rng: Rng; readonly order: Int32Array; readonly position: number } | null = null;
}

function finiteOrNull(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}

export function trainEnsemble(model: Model, split: DataSplit, config: TrainingConfig, options: TrainOptions): MemberResult[] {
  return new EnsembleTrainer(model, split, config, options).run();
}

class EnsembleTrainer {
  private readonly K: number;
  private readonly outWidth: number;
  private readonly active: Uint8Array;
  private readonly baseRates: Float64Array;
  /** rates[k][l]: step size of member k on layer l, in units of the base rate for gradientFlow. */
  private readonly rates: Float64Array[];
  private readonly recordSteps: Set<number>;
  private readonly recordStepList: number[];
  private readonly gradients: Gradients;
  private readonly losses: Float64Array;
  private readonly outputs: FloatArray;
  private readonly testOutputs: FloatArray;
  private readonly curves: RecordPoint[][];
  private readonly series: SeriesPoint[][];
  private readonly results: (MemberResult | null)[];
  private readonly lossWindow: LossWindow;
  /** The windowStationarity rule's readings, or null when the rule is off. */
  private readonly windowTest: WindowStationarity | null;
  /** Sorted steps where a many-steps loop hands back: the recording steps and the window boundaries. */
  private readonly returnSteps: number[];
  private readonly steps: Float64Array;
  private readonly times: Float64Array;
  /** Steps in one pass over the training set (1 for full batch). */
  private readonly stepsPerEpoch: number;
  /** The stop rules with maxSteps lowered to the step budget (maxEpochs as steps), for the schedule and native loops. */
  private readonly stop: StoppingConfig;
  private readonly started = performance.now();

  constructor(
    private readonly model: Model,
    private readonly split: DataSplit,
    private readonly config: TrainingConfig,
    private readonly options: TrainOptions,
  ) {
    this.K = model.ensembleSize;
    this.outWidth = model.outputDim;
    checkTask(model, split.train, config.loss);
    this.active = new Uint8Array(this.K).fill(1);
    const scaling = (k: number) => (config.learningRateScaling === 'strength' ? strengthLearningRateFactor(model.strengthKnobs(k)) : 1);
    this.baseRates = Float64Array.from({ length: this.K }, (_, k) => (options.learningRates?.[k] ?? config.learningRate) * scaling(k));
    const layerRates = config.layerLearningRates ?? Array.from({ length: model.layerCount }, () => 1);
    if (layerRates.length !== model.layerCount) throw new Error(`training.layerLearningRates: needs one value per weight layer (${model.layerCount}), got ${layerRates.length}`);
    const flow = config.optimizer === 'gradientFlow';
    this.rates = Array.from({ length: this.K }, (_, k) =>
      Float64Array.from({ length: model.layerCount }, (_, l) => (model.frozen[l] ? 0 : (flow ? scaling(k) : this.baseRates[k]) * layerRates[l] * model.layerLearningRateScales[l])),
    );
    const n = split.train.inputs.rows;
    this.stepsPerEpoch = stepsPerEpoch(config, n);
    this.stop = { ...config.stop, maxSteps: stepBudget(config.stop, this.stepsPerEpoch) };
    this.recordStepList = logSpacedSteps(this.stop.maxSteps, config.record.pointsPerDecade);
    this.recordSteps = new Set(this.recordStepList);
    this.gradients = model.allocateGradients();
    this.losses = new Float64Array(this.K);
    this.outputs = allocate(this.K * n * this.outWidth, model.dtype);
    this.testOutputs = allocate(this.K * split.test.inputs.rows * this.outWidth, model.dtype);
    this.curves = Array.from({ length: this.K }, () => []);
    this.series = Array.from({ length: this.K }, () => []);
    this.results = Array.from({ length: this.K }, () => null);
    this.lossWindow = new LossWindow(this.K, config.stop.plateau?.window ?? 0);
    const windowRule = config.stop.windowStationarity;
    this.windowTest = windowRule ? new WindowStationarity(model, this.rates, windowRule.window) : null;
    this.returnSteps = this.windowTest ? [...new Set([...this.recordStepList, ...this.windowTest.boundaries(this.stop.maxSteps)])].sort((a, b) => a - b) : this.recordStepList;
    this.steps = new Float64Array(this.K);
    this.times = new Float64Array(this.K);
    const earlier = options.continuation?.steps;
    if (earlier) {
      if (earlier.length !== this.K) throw new Error(`internal: a continuation of ${earlier.length} members for an ensemble of ${this.K}`);
      this.steps.set(earlier);
      for (let k = 0; k < this.K; k++) this.times[k] = this.steps[k] * this.baseRates[k];
    }
  }

  run(): MemberResult[] {
    if (this.config.optimizer === 'gradientFlow') this.runGradientFlow();
    else if (isStochastic(this.config)) this.runStochastic();
    else this.runFullBatch();
    if (this.options.continuation) this.options.continuation.steps = Float64Array.from(this.steps);
    return this.results.map((r) => {
      if (!r) throw new Error('internal: a member ended without a result');
      return r;
    });
  }

  private get anyActive(): boolean {
    return this.active.some((a) => a === 1);
  }

  /** ‖∇L‖₂ of each active member over its trained layers, from the gradients of a full-batch evaluation. */
  private gradientNorms(): Float64Array {
    return Float64Array.from({ length: this.K }, (_, k) => (this.active[k] ? this.model.gradientNorm(k, this.gradients) : 0));
  }

  /**
   * Checks the stopping rules of every active member at its current state; records as due. At a step
   * boundary the losses join the plateau rule's window ('push'), unless a many-steps call did ('pushed').
   */
  private checkpoint(outputs: FloatArray, losses: Float64Array, window: 'push' | 'pushed' | 'none', gradientNorms: Float64Array | null = null): void {
    const n = this.split.train.inputs.rows;
    const due: number[] = [];
    const stopping: (StopReason | null)[] = new Array(this.K).fill(null);
    for (let k = 0; k < this.K; k++) {
      if (!this.active[k]) continue;
      const step = this.steps[k];
      const own = outputs.subarray(k * n * this.outWidth, (k + 1) * n * this.outWidth);
      if (window === 'push') this.lossWindow.push(k, losses[k]);
      const windowReading = this.windowTest?.observe(k, step, losses[k]) ?? null;
      const reason = checkStop(this.stop, {
        step,
        epochs: step / this.stepsPerEpoch,
        time: this.times[k],
        seconds: (performance.now() - this.started) / 1000,
        trainLoss: losses[k],
        trainMisfit: misfitFraction(this.split.train, own, this.outWidth, this.config.stop.interpolationTolerance),
        lossWindowAgo: this.lossWindow.windowAgo(k),
        gradientNorm: gradientNorms ? gradientNorms[k] : null,
        window: windowReading,
      });
      stopping[k] = reason;
      if (reason || this.recordSteps.has(step)) due.push(k);
    }
    if (due.length === 0) return;
    this.evaluateTest(due);
    for (const k of due) {
      const recorded = this.recordPoint(k, outputs, losses[k], stopping[k] !== null, stopping[k] === 'diverged');
      this.curves[k].push(recorded);
      const point = stopping[k] ? withWindowReading(withBestTestError(recorded, this.curves[k]), this.windowTest?.latest[k] ?? null) : recorded;
      const reason = stopping[k];
      if (reason) {
        this.active[k] = 0;
        this.results[k] = {
          status: reason === 'diverged' ? 'diverged' : 'completed',
          stopReason: reason,
          steps: this.steps[k],
          time: this.times[k],
          seconds: (performance.now() - this.started) / 1000,
          final: point,
          curve: this.curves[k],
          series: this.series[k],
        };
        this.options.onMemberDone?.(k, this.results[k] as MemberResult);
      }
    }
  }

  private evaluateTest(members: readonly number[]): void {
    if (this.split.test.inputs.rows === 0) return;
    const mask = new Uint8Array(this.K);
    for (const k of members) mask[k] = 1;
    this.model.forward(this.split.test.inputs, this.testOutputs, mask);
  }

  private recordPoint(k: number, outputs: FloatArray, trainLoss: number, final: boolean, diverged = false): RecordPoint {
    const { train, test } = this.split;
    const w = this.outWidth;
    const own = outputs.subarray(k * train.inputs.rows * w, (k + 1) * train.inputs.rows * w);
    const testOwn = this.testOutputs.subarray(k * test.inputs.rows * w, (k + 1) * test.inputs.rows * w);
    const hasTest = test.inputs.rows > 0;
    const metrics: Record<string, number | null> = {};
    for (const hook of this.options.hooks ?? []) {
      const values = hook({ model: this.model, member: k, step: this.steps[k], time: this.times[k], final, split: this.split, dynamics: { optimizer: this.config.optimizer, stepSizes: this.rates[k], loss: this.config.loss }, diverged });
      for (const [name, value] of Object.entries(values)) {
        if (typeof value === 'number' || value === null) metrics[name] = finiteOrNull(value);
        else this.series[k].push({ name, step: this.steps[k], values: Array.from(value, (v) => (Number.isFinite(v) ? v : 0)) });
      }
    }
    return {
      step: this.steps[k],
      time: this.times[k],
      trainLoss: finiteOrNull(trainLoss),
      trainError: finiteOrNull(classificationError(train, own, w)),
      testLoss: hasTest ? finiteOrNull(lossAndGradient(this.config.loss, testOwn, test.targets, test.inputs.rows, w, null)) : null,
      testError: hasTest ? finiteOrNull(classificationError(test, testOwn, w)) : null,
      metrics,
    };
  }

  private advance(): void {
    throwIfInterrupted();
    let stepping = 0;
    for (let k = 0; k < this.K; k++)
      if (this.active[k]) {
        this.steps[k]++;
        this.times[k] = this.steps[k] * this.baseRates[k];
        stepping++;
      }
    countSteps(stepping);
  }

  /** The model's many-steps kernel for this training, where its device has one (the same step and stop rules, many steps per call). */
  private manySteps(adam: AdamState | null): ManyStepsLoop | null {
    const train = this.split.train;
    return this.model.manySteps({
      inputs: train.inputs,
      targets: train.targets,
      labels: train.kind,
      targetDim: train.targetDim,
      loss: this.config.loss,
      gradients: this.gradients,
      steps: this.steps,
      baseRates: this.baseRates,
      rates: this.rates,
      returnSteps: this.returnSteps,
      started: this.started,
      stop: this.stop,
      lossWindow: this.lossWindow,
      adam: adam ? { first: adam.first, second: adam.second, steps: adam.steps, ...this.config.adam } : null,
    });
  }

  /** Steps, times and the step counter after a many-steps call. */
  private afterManySteps(memberSteps: number): void {
    for (let k = 0; k < this.K; k++) if (this.active[k]) this.times[k] = this.steps[k] * this.baseRates[k];
    countSteps(memberSteps);
    throwIfInterrupted();
  }

  /** The step rule's state (Adam's moments): the continuation's when there is one, kept there for the next call. */
  private stepRuleState(): AdamState | null {
    const continuation = this.options.continuation;
    if (continuation?.adam) return continuation.adam;
    const state = STEP_RULES[this.config.optimizer as StepRuleName].init(this.model);
    if (continuation) continuation.adam = state;
    return state;
  }

  private runFullBatch(): void {
    const train = this.split.train;
    const adam = this.stepRuleState();
    const rule = STEP_RULES[this.config.optimizer as StepRuleName];
    const gradientNorms = () => (this.config.stop.gradientTolerance !== undefined ? this.gradientNorms() : null);
    const fast = this.manySteps(adam);
    if (fast) {
      // Each call returns every active member evaluated with its update pending; the next call applies it.
      for (;;) {
        this.afterManySteps(fast.fullBatch(this.active, this.outputs, this.losses));
        this.checkpoint(this.outputs, this.losses, 'pushed', gradientNorms());
        if (!this.anyActive) return;
      }
    }
    for (;;) {
      this.model.lossGradient(train.inputs, train.targets, this.config.loss, this.outputs, this.losses, this.gradients, this.active);
      this.checkpoint(this.outputs, this.losses, 'push', gradientNorms());
      if (!this.anyActive) return;
      rule.update(this.model, this.gradients, this.active, this.rates, adam, this.config.adam);
      this.advance();
    }
  }

  /** Full training loss and outputs of the active members, without gradients. */
  private evaluateTrain(): void {
    const train = this.split.train;
    const n = train.inputs.rows;
    this.model.forward(train.inputs, this.outputs, this.active);
    for (let k = 0; k < this.K; k++)
      if (this.active[k]) this.losses[k] = lossAndGradient(this.config.loss, this.outputs.subarray(k * n * this.outWidth, (k + 1) * n * this.outWidth), train.targets, n, this.outWidth, null);
  }

  private runStochastic(): void {
    const train = this.split.train;
    const n = train.inputs.rows;
    const batchSize = minibatchSize(this.config, n);
    const continuation = this.options.continuation;
    const rng = continuation?.minibatches?.rng ?? Rng.fromSeed(this.options.seed).child('minibatches');
    const rule = STEP_RULES[this.config.optimizer as StepRuleName];
    const adam = this.stepRuleState();
    const batchOutputs = allocate(this.K * batchSize * this.outWidth, this.model.dtype);
    const batchLosses = new Float64Array(this.K);
    const epochRules = convergenceRules(this.stop).length > 0;
    const targetDim = train.targetDim;
    let order = continuation?.minibatches?.order ?? rng.permutation(n);
    let position = continuation?.minibatches?.position ?? 0;
    if (order.length !== n) throw new Error(`internal: a continuation's minibatch order of ${order.length} points for ${n}`);
    // The last minibatch of an epoch may be smaller; both sizes get their own reused buffers.
    const buffers = new Map<number, { inputs: Matrix; targets: Float64Array; offsets: FloatArray | null }>();
    const d = train.inputs.cols;
    // f₀ of the whole training set, gathered per minibatch (the f − f₀ option).
    const trainOffsets = this.model.offsetsFor(train.inputs);
    const fast = this.manySteps(adam);
    // Past `batches` minibatches; a new epoch draws a new order.
    const moveOn = (batches: number) => {
      position += batches * batchSize;
      if (position >= n) {
        position = 0;
        order = rng.permutation(n);
      }
    };
    try {
      for (;;) {
        const epochEnd = position === 0;
        // The whole training set is evaluated where something reads it: a recording step, an epoch's end when
        // a rule about the training state is set, and a minibatch loss past the divergence rule's bound
        // (the rule then decides on the whole set).
        const due =
          (epochEnd && epochRules) ||
          this.steps.some((s, k) => this.active[k] === 1 && this.recordSteps.has(s)) ||
          batchLosses.some((loss, k) => this.active[k] === 1 && !(loss <= this.stop.divergenceLoss));
        if (due) {
          this.evaluateTrain();
          this.checkpoint(this.outputs, this.losses, epochEnd && epochRules ? 'push' : 'none');
          if (!this.anyActive) return;
        } else {
          // Steps and time limits still apply between epochs.
          this.checkpointLimitsOnly();
          if (!this.anyActive) return;
        }
        if (fast) {
          // Steps to the epoch's end or the next step the loop top would act on, in one call.
          const taken = fast.minibatches(this.active, order, position, batchSize, trainOffsets, batchOutputs, batchLosses);
          this.afterManySteps(taken * this.active.reduce((a, b) => a + b, 0));
          moveOn(taken);
          continue;
        }
        const indices = order.subarray(position, position + batchSize);
        let batch = buffers.get(indices.length);
        if (!batch) {
          const dtype = this.model.dtype;
          batch = {
            inputs: { rows: indices.length, cols: d, data: allocate(indices.length * d, dtype) },
            targets: new Float64Array(indices.length * targetDim),
            offsets: trainOffsets ? allocate(this.K * indices.length * this.outWidth, dtype) : null,
          };
          buffers.set(indices.length, batch);
        }
        for (let t = 0; t < indices.length; t++) {
          batch.inputs.data.set(train.inputs.data.subarray(indices[t] * d, (indices[t] + 1) * d), t * d);
          for (let c = 0; c < targetDim; c++) batch.targets[t * targetDim + c] = train.targets[indices[t] * targetDim + c];
          if (trainOffsets && batch.offsets)
            for (let k = 0; k < this.K; k++)
              for (let c = 0; c < this.outWidth; c++) batch.offsets[(k * indices.length + t) * this.outWidth + c] = trainOffsets[(k * n + indices[t]) * this.outWidth + c];
        }
        this.model.lossGradient(batch.inputs, batch.targets, this.config.loss, batchOutputs, batchLosses, this.gradients, this.active, batch.offsets);
        rule.update(this.model, this.gradients, this.active, this.rates, adam, this.config.adam);
        this.advance();
        moveOn(1);
      }
    } finally {
      if (continuation) continuation.minibatches = { rng, order, position };
    }
  }

  /** Between epochs only the step, time and wall limits are checked, on a fresh evaluation when one fires. */
  private checkpointLimitsOnly(): void {
    const stop = this.stop;
    const seconds = (performance.now() - this.started) / 1000;
    const limited = [...this.active].some(
      (a, k) => a === 1 && (this.steps[k] >= stop.maxSteps || (stop.maxTime !== undefined && this.times[k] >= stop.maxTime) || (stop.maxSeconds !== undefined && seconds >= stop.maxSeconds)),
    );
    if (!limited) return;
    this.evaluateTrain();
    this.checkpoint(this.outputs, this.losses, 'none');
  }

  private runGradientFlow(): void {
    new GradientFlowIntegrator(this.model, this.split.train, this.config, this.gradients, this.rates, this.baseRates).integrate((outputs, losses, accepted) => {
      for (let k = 0; k < this.K; k++)
        if (this.active[k] && accepted[k] >= 0) {
          this.times[k] = accepted[k];
        }
      this.checkpoint(outputs, losses, 'push');
      return this.active;
    }, this.steps);
  }
}

/** Whether the optimizer steps on minibatches (sgd; adam given a batch size). */
function isStochastic(config: Pick<TrainingConfig, 'optimizer' | 'batchSize'>): boolean {
  return config.optimizer === 'sgd' || (config.optimizer === 'adam' && config.batchSize !== undefined);
}

/** The minibatch size: the spec's (32 when absent), at most n. */
function minibatchSize(config: Pick<TrainingConfig, 'batchSize'>, n: number): number {
  return Math.min(config.batchSize ?? 32, n);
}

/** Steps in one pass over n training points: ⌈n / batch⌉ on minibatches, 1 for full batch and the flow. */
export function stepsPerEpoch(config: Pick<TrainingConfig, 'optimizer' | 'batchSize'>, n: number): number {
  return isStochastic(config) ? Math.ceil(n / minibatchSize(config, n)) : 1;
}

function checkTask(model: Model, train: Dataset, loss: Loss): void {
  const out = model.outputDim;
  const mismatch = lossMismatch(loss, train.kind);
  if (mismatch) throw new Error(mismatch);
  if (loss === 'logistic' && out !== 1) throw new Error(`model.outputDim: the logistic loss needs one output, got ${out}`);
  if (loss === 'crossEntropy' && out !== train.classes) throw new Error(`model.outputDim: the cross-entropy loss needs one output per class (${train.classes}), got ${out}`);
  if (loss === 'square' && train.targetDim !== out) throw new Error(`model.outputDim: must equal the targets' dimension ${train.targetDim} for the square loss, got ${out}`);
}

/** The final point with the last full window of the windowStationarity rule, as window.meanGradient and window.relativeLossChange. */
function withWindowReading(final: RecordPoint, reading: WindowReading | null): RecordPoint {
  if (!reading) return final;
  return { ...final, metrics: { ...final.metrics, 'window.meanGradient': reading.meanGradient, 'window.relativeLossChange': reading.relativeLossChange } };
}

/**
 * The final point with the least test error of any recorded point beside the final one (the papers'
 * "peak test accuracy over training"), as the metrics best.testError and best.step.
 */
function withBestTestError(final: RecordPoint, curve: readonly RecordPoint[]): RecordPoint {
  let best: RecordPoint | null = null;
  for (const p of curve) if (p.testError !== null && (best === null || p.testError < (best.testError as number))) best = p;
  if (!best) return final;
  return { ...final, metrics: { ...final.metrics, 'best.testError': best.testError, 'best.step': best.step } };
}
