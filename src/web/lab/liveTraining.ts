/**
 * One live run of the lab: the engine's own data, model and trainer, advanced in chunks so a Web
 * Worker can answer pause/step/reset between them. The chunks go on from one TrainingContinuation
 * (Adam's moments, the minibatch stream), so they give the numbers of one run of the summed length,
 * and the exported spec reproduces them with `featlab run`.
 */
import type { Backend } from '../../linalg/backend.js';
import { buildData, buildModel } from '../../experiments/trial.js';
import { parseTrialSpec, type TrialSpec } from '../../experiments/trialSpec.js';
import type { DataSplit } from '../../data/dataset.js';
import type { Model } from '../../models/model.js';
import { metricsHook } from '../../metrics/registry.js';
import type { RecordHook } from '../../train/records.js';
import { TrainingContinuation, trainEnsemble } from '../../train/trainer.js';
import { solveFromEffectivePoint, type EffectivePointState, type LinearNetwork1dSolution } from '../../theory/linearNetwork1d.js';
import { linearNetworkRates } from '../../theory/linearNetworkRates.js';
import { labExperimentSpec, labTrialInput, type LabState } from './labState.js';

/** The data as the page draws them: 2D points with their label (±1) or target. */
export interface LabData {
  readonly x: number[];
  readonly y: number[];
  readonly target: number[];
  /** Teacher / signal directions, when the toy has them. */
  readonly directions: [number, number][];
  /** Half-width of the square the boundary is drawn on. */
  readonly extent: number;
  readonly regression: boolean;
}

export interface LabSnapshot {
  readonly step: number;
  /** Gradient-flow time: Σ of the base learning rate over the steps. */
  readonly time: number;
  readonly trainLoss: number | null;
  readonly testLoss: number | null;
  readonly trainError: number | null;
  readonly testError: number | null;
  /** First-layer neurons: effective input weights (2D) and output weights (output scale folded in). */
  readonly neurons: { readonly wx: number[]; readonly wy: number[]; readonly outputWeight: number[] };
  /** f on a size×size grid over [−extent, extent]², rows from top (y = extent) to bottom. */
  readonly boundary: { readonly size: number; readonly values: number[] };
  /** Alignment numbers of the `neurons` and `layers` metrics. */
  readonly measures: Record<string, number | null>;
}

export const BOUNDARY_GRID = 48;

export class LiveTraining {
  readonly spec: TrialSpec;
  readonly split: DataSplit;
  readonly model: Model;
  private stepCount = 0;
  /** The loss left every bound (training.stop.divergenceLoss): further steps do nothing. */
  diverged = false;
  private elapsed = 0;
  private learningRate: number;
  private layerRates: [number, number];
  private readonly measure: RecordHook;
  private readonly rateChanges: string[] = [];
  private readonly continuation = new TrainingContinuation();
  private last: { trainLoss: number | null; testLoss: number | null; trainError: number | null; testError: number | null } | null = null;

  constructor(
    readonly state: LabState,
    private readonly backend: Backend,
  ) {
    this.spec = parseTrialSpec(labTrialInput(state, 0));
    this.split = buildData(this.spec, backend);
    // The lab draws a two-layer net's neurons in the plane (labTrialInput builds one).
    this.model = buildModel(this.spec, this.split, [{}], backend);
    if (this.model.layerCount !== 2) throw new Error('internal: the lab trains two-layer nets');
    this.learningRate = state.learningRate;
    this.layerRates = [state.rateFirst, state.rateSecond];
    this.measure = metricsHook([
      { name: 'neurons', at: 'record', every: 1 },
      { name: 'layers', at: 'record', every: 1, params: { samples: 200 } },
      // The live NTK-change readout: the empirical kernel on a few training points against its value at init.
      { name: 'kernel', at: 'record', every: 1, params: { samples: 32 } },
    ]);
  }

  get step(): number {
    return this.stepCount;
  }

  private dataCache: LabData | null = null;

  /** The training data as the page draws them (built once: the boundary grid of every snapshot uses its extent). */
  data(): LabData {
    if (this.dataCache) return this.dataCache;
    const { inputs, targets } = this.split.train;
    const x: number[] = [];
    const y: number[] = [];
    let extent = 0;
    for (let i = 0; i < inputs.rows; i++) {
      x.push(inputs.data[2 * i]);
      y.push(inputs.data[2 * i + 1]);
      extent = Math.max(extent, Math.abs(inputs.data[2 * i]), Math.abs(inputs.data[2 * i + 1]));
    }
    const d = this.split.directions;
    const directions: [number, number][] = d && d.cols === 2 ? Array.from({ length: d.rows }, (_, r) => [d.data[2 * r], d.data[2 * r + 1]]) : [];
    this.dataCache = { x, y, target: Array.from(targets), directions, extent: 1.1 * extent, regression: this.spec.training.loss === 'square' };
    return this.dataCache;
  }

  /** Later chunks use these rates; the run goes on from where it is. */
  setLearningRates(learningRate: number, rateFirst: number, rateSecond: number): void {
    if (learningRate === this.learningRate && rateFirst === this.layerRates[0] && rateSecond === this.layerRates[1]) return;
    this.rateChanges.push(`at step ${this.stepCount} the learning rate became ${learningRate} (× ${rateFirst}, × ${rateSecond})`);
    this.learningRate = learningRate;
    this.layerRates = [rateFirst, rateSecond];
  }

  /** Trains `steps` steps of the state's optimizer (0: only evaluates) and returns the losses after them. */
  advance(steps: number): NonNullable<LiveTraining['last']> {
    const training = {
      ...this.spec.training,
      learningRate: this.learningRate,
      layerLearningRates: [...this.layerRates],
      // Counted from the run's start: the continuation carries the step count.
      stop: { ...this.spec.training.stop, maxSteps: this.stepCount + steps },
      record: { pointsPerDecade: 1 },
    };
    const [result] = trainEnsemble(this.model, this.split, training, { seed: this.spec.seed, continuation: this.continuation });
    const taken = result.steps - this.stepCount;
    this.stepCount = result.steps;
    if (result.status === 'diverged') this.diverged = true;
    this.elapsed += taken * this.learningRate;
    const { trainLoss, testLoss, trainError, testError } = result.final;
    this.last = { trainLoss, testLoss, trainError, testError };
    return this.last;
  }

  snapshot(gridSize = BOUNDARY_GRID): LabSnapshot {
    const losses = this.last ?? this.advance(0);
    const k = 0;
    const w = this.model.effectiveWeights(k, 0);
    const u = this.model.effectiveWeights(k, 1).data;
    const alpha = this.model.strengthKnobs(k).outputScale;
    const measured = this.measure({ model: this.model, member: k, split: this.split, step: this.stepCount, time: this.elapsed, final: false });
    const measures: Record<string, number | null> = {};
    for (const [name, v] of Object.entries(measured)) if (typeof v === 'number' || v === null) measures[name] = v === null || Number.isFinite(v) ? v : null;
    return {
      step: this.stepCount,
      time: this.elapsed,
      ...losses,
      neurons: {
        wx: Array.from({ length: w.rows }, (_, j) => w.data[j * 2]),
        wy: Array.from({ length: w.rows }, (_, j) => w.data[j * 2 + 1]),
        outputWeight: Array.from(u, (v) => alpha * v),
      },
      boundary: { size: gridSize, values: this.boundary(gridSize) },
      measures,
    };
  }

  private boundary(size: number): number[] {
    const extent = this.data().extent;
    const grid = new Float64Array(size * size * 2);
    for (let r = 0; r < size; r++)
      for (let c = 0; c < size; c++) {
        const i = r * size + c;
        grid[2 * i] = -extent + ((c + 0.5) / size) * 2 * extent;
        grid[2 * i + 1] = extent - ((r + 0.5) / size) * 2 * extent;
      }
    const inputs = { rows: size * size, cols: 2, data: this.model.dtype === 'float32' ? Float32Array.from(grid) : grid };
    return Array.from(this.model.forward(inputs));
  }

  /** The exact gradient-flow solution for this run (seed 002), when it applies: a linear net on the 1D toy; time is step × η. */
  theory(): LinearNetwork1dSolution | null {
    if (this.spec.model.activation !== 'linear' || this.spec.model.bias || this.rateChanges.length || this.spec.training.optimizer !== 'gd') return null;
    const initial = this.effectivePointAtInit();
    if (!initial) return null;
    const [first, second] = [this.model.effectiveWeights(0, 0), this.model.effectiveWeights(0, 1)];
    const widths = [first.cols, first.rows, second.rows] as const;
    return solveFromEffectivePoint(initial, linearNetworkRates({ parametrization: this.spec.model.parametrization, widths, outputScale: this.model.strengthKnobs(0).outputScale, layerLearningRates: this.layerRates }));
  }

  private initialPointCache: EffectivePointState | null | undefined;

  /** The 1D toy's effective point at initialization (seed 002, Proposition 1), null on other data. */
  effectivePointAtInit(): EffectivePointState | null {
    if (this.initialPointCache !== undefined) return this.initialPointCache;
    if (this.state.toy !== 'linear1d') return (this.initialPointCache = null);
    const v = this.model.atInitialization(0, () => metricsHook([{ name: 'layers', at: 'record', every: 1 }])({ model: this.model, member: 0, split: this.split, step: 0, time: 0, final: false }));
    const num = (name: string) => (typeof v[name] === 'number' ? (v[name] as number) : NaN);
    const point = { outputNorm: num('point.outputNorm'), hiddenNorm: num('point.hiddenNorm'), alignment: num('alignmentAngle'), inputNorm: num('point.inputNorm'), target: num('point.target') };
    this.initialPointCache = Object.values(point).every(Number.isFinite) ? point : null;
    return this.initialPointCache;
  }

  /** The run as an experiment spec of one trial; mid-run rate changes are named in its description. */
  exportSpec(): Record<string, unknown> {
    const current = { ...this.state, learningRate: this.learningRate, rateFirst: this.layerRates[0], rateSecond: this.layerRates[1] };
    return labExperimentSpec(current, this.stepCount, this.rateChanges.join('; '));
  }
}
