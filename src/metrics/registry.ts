/**
 * The registered metrics a trial spec can ask for by name, at every k-th recording point or only at
 * the end. Each states its cost; the expensive ones work on a subsample of the training set.
 */
import { effectiveInputNorm } from '../models/mlp/effectivePoint.js';
import { z } from 'zod';
import { syntheticInputDim } from '../data/synthetic.js';
import { allocate, norm as vectorNorm } from '../linalg/matrix.js';
import type { Model } from '../models/model.js';
import type { RecordHook } from '../train/records.js';
import { cosineTable, directionClusters, effectiveRank, layerAlignment, meanAbsPairCosine, relativeDistance, signedAlignment, signedDirectionMass, stableRank, weightedAbsPairCosine } from './alignment.js';
import { cka, featureSpanError, logisticProbeAccuracy, ridgeProbeAccuracy } from './features.js';
import { margins, quantile } from './generalization.js';
import { classificationError, misclassifiedPoints } from '../data/dataset.js';
import { targetKindOf } from '../data/targets.js';
import { angleToNearest, extremalVectors } from './extremal.js';
import { angleDegrees, classMean, mixtureAngles } from './mixture.js';
import { Rng } from '../linalg/rng.js';
import { CUTOFF_RULES, cumulativeEnergy, informationSpace, type JacobianSpectrum, gramSpectrum, modeCoefficients, orthogonalComponent, splitNorms } from './jacobian.js';
import { linearizedModeFactor, type LinearizedDynamics, uniformStepSize } from '../theory/linearizedResidual.js';
import { empiricalNtk, kernelDistance, kernelRelativeChange, kernelTargetAlignment } from './kernel.js';
import { type Dense, dense, firstRows, singularValuesViaGram } from './matrixOps.js';
import { type MetricContext, type MetricDefinition, MetricError, type MetricValues } from './metric.js';

const samples = z.number().int().min(2).default(200);

function define<P extends z.ZodTypeAny>(definition: MetricDefinition<P>): MetricDefinition<P> {
  return definition;
}

function outputsOf(model: Model, member: number, inputs: Dense): Float64Array {
  const mask = new Uint8Array(model.ensembleSize);
  mask[member] = 1;
  const all = model.forward(inputs, allocate(model.ensembleSize * inputs.rows * model.outputDim, model.dtype), mask);
  const width = inputs.rows * model.outputDim;
  return Float64Array.from(all.subarray(member * width, (member + 1) * width));
}

/** m with one more column, value(row) in it. */
function appendColumn(m: Dense, value: (row: number) => number): Dense {
  const cols = m.cols + 1;
  const data = new Float64Array(m.rows * cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) data[r * cols + c] = m.data[r * m.cols + c];
    data[r * cols + m.cols] = value(r);
  }
  return { rows: m.rows, cols, data };
}

/** Per-member cache across recording points. */
function remember<T>(ctx: MetricContext, key: string, make: () => T): T {
  if (!ctx.state.has(key)) ctx.state.set(key, make());
  return ctx.state.get(key) as T;
}

/**
 * How far training moved member k's weights, from the effective (multiplier applied) weights and biases:
 * per weight layer ‖θ_l − θ_l(0)‖/‖θ_l(0)‖ and the weights' Frobenius norm, and over all layers the
 * relative distance ‖θ − θ₀‖/‖θ₀‖, the norm ‖θ‖ (seed 002's Figs. 3–4 read these two) and ‖θ₀‖, its baseline.
 */
function weightMovement(model: Model, member: number): MetricValues {
  const out: MetricValues = {};
  let diff = 0;
  let base = 0;
  let total = 0;
  const initialLayers = model.atInitialization(member, () => Array.from({ length: model.layerCount }, (_, l) => [model.effectiveWeights(member, l).data, model.effectiveBiases(member, l)] as const));
  for (let l = 0; l < model.layerCount; l++) {
    const w = model.effectiveWeights(member, l);
    const [w0, b0] = initialLayers[l];
    const b = model.effectiveBiases(member, l);
    const current = b ? Float64Array.from([...Array.from(w.data), ...Array.from(b)]) : w.data;
    const initial = b && b0 ? Float64Array.from([...Array.from(w0), ...Array.from(b0)]) : w0;
    for (let i = 0; i < current.length; i++) {
      diff += (current[i] - initial[i]) ** 2;
      base += initial[i] ** 2;
      total += current[i] ** 2;
    }
    out[`layer${l}.distanceFromInit`] = guarded(() => relativeDistance(current, initial));
    out[`layer${l}.norm`] = Math.sqrt(w.data.reduce((s, v) => s + v * v, 0));
  }
  out.distanceFromInit = base > 0 ? Math.sqrt(diff / base) : null;
  out.weightNorm = Math.sqrt(total);
  out.initialWeightNorm = Math.sqrt(base);
  return out;
}

/** Labels as the Jacobian's row vector: ±1 / real targets, or one-hot rows for classes. */
function labelVector(ctx: MetricContext, rows: number): Float64Array {
  const train = ctx.split.train;
  const width = ctx.model.outputDim;
  const y = new Float64Array(rows * width);
  for (let i = 0; i < rows; i++) {
    if (train.kind === 'classes') y[i * width + train.targets[i]] = 1;
    else for (let c = 0; c < width; c++) y[i * width + c] = train.targets[i * train.targetDim + c];
  }
  return y;
}

/** The training labels before label noise as the Jacobian's row vector, or null without noise. */
function cleanLabelVector(ctx: MetricContext, rows: number): Float64Array | null {
  const clean = ctx.split.cleanTrainTargets;
  if (!clean) return null;
  return labelVector({ ...ctx, split: { ...ctx.split, train: { ...ctx.split.train, targets: clean } } }, rows);
}

/**
 * Cumulative energies E(s) of the label vector y as trained on, and with label noise also of the clean
 * labels and of the noise y − y_clean: "noiseEnergy" with its mean removed (orthogonalized against y_clean,
 * and for one-hot rows the all-ones vector too: chance level rank/(n·K)), "rawNoiseEnergy" as it is.
 */
function labelEnergies(ctx: MetricContext, spectrum: JacobianSpectrum, y: Float64Array): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = { labelEnergy: cumulativeEnergy(spectrum, y) };
  const clean = cleanLabelVector(ctx, spectrum.size / ctx.model.outputDim);
  if (!clean) return out;
  out.cleanLabelEnergy = cumulativeEnergy(spectrum, clean);
  const noise = Float64Array.from(y, (v, i) => v - clean[i]);
  if (!noise.some((v) => v !== 0)) return out;
  out.rawNoiseEnergy = cumulativeEnergy(spectrum, noise);
  // One-hot rows: the noise's mean also has a part along the all-ones vector (see orthogonalComponent).
  const orthogonal = ctx.model.outputDim > 1 ? orthogonalComponent(noise, clean, new Float64Array(noise.length).fill(1)) : orthogonalComponent(noise, clean);
  if (orthogonal.some((v) => Math.abs(v) > 1e-12)) out.noiseEnergy = cumulativeEnergy(spectrum, orthogonal);
  return out;
}

/**
 * The residual's coordinates ⟨u_s, r⟩ on the top singular directions of a fixed (initial) Jacobian and,
 * under plain GD or gradient flow with one step size for every trained layer over the whole training
 * set, the linearized prediction ⟨u_s, r_0⟩·factor_s (theory/linearizedResidual.ts) and the largest
 * deviation from it relative to |⟨u_s, r_0⟩|.
 */
function residualModes(ctx: MetricContext, spectrum: JacobianSpectrum, residualCoefficients: Float64Array, inputs: Dense, modes: number, fixedReference: boolean): MetricValues {
  const coefficients = residualCoefficients.slice(0, modes);
  const out: MetricValues = { 'jacobian.residualModes': coefficients };
  const dynamics = ctx.dynamics;
  const step = dynamics ? uniformStepSize(dynamics.stepSizes) : null;
  const wholeSet = inputs.rows === ctx.split.train.inputs.rows;
  if (!fixedReference || !dynamics || step === null || !wholeSet || (dynamics.optimizer !== 'gd' && dynamics.optimizer !== 'gradientFlow')) return out;
  const start = remember(ctx, 'jacobian.initialResidual', () =>
    ctx.model.atInitialization(ctx.member, () => {
      const y = labelVector(ctx, inputs.rows);
      return modeCoefficients(spectrum, Float64Array.from(outputsOf(ctx.model, ctx.member, inputs), (v, i) => v - y[i])).slice(0, modes);
    }),
  );
  const linear: LinearizedDynamics = dynamics.optimizer === 'gd' ? { kind: 'gd', stepSize: step, steps: ctx.step } : { kind: 'flow', rate: step, time: ctx.time ?? 0 };
  const predicted = Float64Array.from(start, (c, s) => c * linearizedModeFactor(spectrum.singularValues[s], inputs.rows, linear));
  let deviation = 0;
  for (let s = 0; s < modes; s++) if (Math.abs(start[s]) > 0) deviation = Math.max(deviation, Math.abs(coefficients[s] - predicted[s]) / Math.abs(start[s]));
  out['jacobian.residualModes.linearized'] = predicted;
  out['jacobian.linearizedDeviation'] = deviation;
  return out;
}

/** The value a cutoff rule needs and the params lack, as one line, or null. */
function missingCutoffValue(params: { cutoff: string; absoluteCutoff?: number; rank?: number }): string | null {
  if (params.cutoff === 'absolute' && params.absoluteCutoff === undefined) return 'cutoff "absolute" needs params.absoluteCutoff';
  if (params.cutoff === 'rank' && params.rank === undefined) return 'cutoff "rank" needs params.rank';
  return null;
}

/** ‖Π_I r_τ‖ and ‖Π_N r_τ‖ of each kept residual on the final Jacobian's information space (its first `rank` left singular vectors). */
function residualsOnFinal(spectrum: JacobianSpectrum, rank: number, kept: readonly { step: number; residual: Float64Array }[]): MetricValues {
  const parts = kept.map(({ residual }) => splitNorms(spectrum, residual, rank));
  return {
    'jacobian.onFinal.steps': Float64Array.from(kept, (k) => k.step),
    'jacobian.onFinal.residual.information': Float64Array.from(parts, (p) => p.information),
    'jacobian.onFinal.residual.nuisance': Float64Array.from(parts, (p) => p.nuisance),
  };
}

export const METRICS = [
  define({
    name: 'margins',
    summary: 'min and quantiles (10%, 50%, 90%) of the training margins y·f(x), or f_y − max_{c≠y} f_c for classes',
    cost: 'one forward pass over the training set, O(n·p)',
    params: z.strictObject({}),
    compute(ctx) {
      const train = ctx.split.train;
      const m = margins(train, outputsOf(ctx.model, ctx.member, dense(train.inputs)), ctx.model.outputDim);
      const out: MetricValues = { 'margin.min': quantile(m, 0), 'margin.q10': quantile(m, 0.1), 'margin.median': quantile(m, 0.5), 'margin.q90': quantile(m, 0.9) };
      if (ctx.final) out['margin.all'] = m;
      return out;
    },
  }),
  define({
    name: 'overfitting',
    summary:
      'over-fitting under label noise (Yeom et al. 2026): noiseFitted = the fraction of the flipped training points classified as their flipped label, cleanFitted the same for the other points, gap = test error − train error; beside noiseFitted its baseline, the test error (with clean test labels, a net that learned the rule without memorizing fits a flipped point about as often as it errs on a test point)',
    cost: 'one forward pass over the training and the test set',
    params: z.strictObject({}),
    problems: (spec) => (targetKindOf(spec.data) === 'regression' ? ['needs class labels (data.labels sign); the data has real targets'] : []),
    compute(ctx) {
      const { split, model } = ctx;
      const width = model.outputDim;
      const wrong = misclassifiedPoints(split.train, outputsOf(model, ctx.member, dense(split.train.inputs)), width);
      if (!wrong) throw new MetricError('overfitting needs class labels; the data has real targets');
      const fittedShare = (noisy: boolean): number | null => {
        let fitted = 0;
        let count = 0;
        for (let i = 0; i < wrong.length; i++) {
          if ((split.noisyTrain?.[i] === 1) !== noisy) continue;
          count++;
          fitted += 1 - wrong[i];
        }
        return count > 0 ? fitted / count : null;
      };
      const trainError = wrong.reduce((a, b) => a + b, 0) / wrong.length;
      const test = split.test;
      const testError = test.inputs.rows > 0 ? classificationError(test, outputsOf(model, ctx.member, dense(test.inputs)), width) : null;
      return {
        'overfitting.noiseFitted': fittedShare(true),
        'overfitting.cleanFitted': fittedShare(false),
        'overfitting.noiseFittedBaseline': testError,
        'overfitting.gap': testError === null ? null : testError - trainError,
      };
    },
  }),
  define({
    name: 'neurons',
    summary:
      'first-layer neurons: norms, output weights, cosines to the task directions (or given references); directions by contribution-weighted clustering within angleTolerance (Boursier & Flammarion 2025): distinct (clusters with ≥ massFraction of the weight), effective (1/Σ p_c²), top and top-2 mass; mean |cos| between neurons, plain and weighted by contribution (Yeom et al. 2026); each beside its value for the initial random neurons (neurons.random.*)',
    cost: 'O(m²·d) for the pairwise cosines and the clustering (once more at the first record, for the random baseline)',
    params: z.strictObject({
      angleTolerance: z.number().positive().max(90).default(10),
      massFraction: z.number().min(0).max(1).default(0.01),
      references: z.array(z.array(z.number())).min(1).optional(),
      /** A neuron counts as aligned with a reference when |cos| reaches this. */
      alignedCosine: z.number().min(0).max(1).default(0.5),
    }),
    problems(spec, params) {
      if (spec.model.family === 'cnn') return ["needs a fully connected net: a convolution's filters are not directions in the input space"];
      // The input's dimension where the spec fixes it (a synthetic task, or a projection of real data).
      const d = spec.data.name ? spec.data.projection?.dim : syntheticInputDim(spec.data);
      return (params.references ?? []).flatMap((r, i) => (d !== undefined && r.length !== d ? [`params.references.${i}: has ${r.length} entries, the inputs have ${d}`] : []));
    },
    compute(ctx, params) {
      const { model, member } = ctx;
      // Weight of a neuron: its contribution |a_j|·‖w_j‖ in a two-layer net with one output, ‖w_j‖ otherwise.
      const twoLayer = model.layerCount === 2 && model.outputDim === 1;
      const neuronsNow = () => {
        const w = model.effectiveWeights(member, 0);
        const norms = Float64Array.from({ length: w.rows }, (_, j) => Math.hypot(...w.data.subarray(j * w.cols, (j + 1) * w.cols)));
        const a = twoLayer ? model.effectiveWeights(member, 1).data : null;
        return { w, norms, a, weights: Float64Array.from(norms, (v, j) => (a ? Math.abs(a[j]) * v : v)) };
      };
      const directionMeasures = (n: ReturnType<typeof neuronsNow>, prefix: string): MetricValues => {
        const clusters = directionClusters(n.w, n.weights, params.angleTolerance, params.massFraction);
        const pairs = cosineTable(n.w, n.w);
        return {
          [`${prefix}distinctDirections`]: clusters.distinct,
          [`${prefix}effectiveDirections`]: clusters.effective,
          [`${prefix}topDirectionMass`]: clusters.topMass,
          [`${prefix}top2DirectionMass`]: clusters.top2Mass,
          [`${prefix}meanAbsPairCosine`]: n.w.rows >= 2 ? meanAbsPairCosine(n.w, pairs) : null,
          [`${prefix}weightedAbsPairCosine`]: weightedAbsPairCosine(n.w, n.weights, pairs),
        };
      };
      const now = neuronsNow();
      const { w, norms, a, weights } = now;
      // The chance baseline: the same measures of this member's initial, random neurons.
      const random = remember(ctx, 'neurons.random', () => model.atInitialization(member, () => directionMeasures(neuronsNow(), 'neurons.random.')));
      const out: MetricValues = { ...directionMeasures(now, 'neurons.'), ...random, 'neurons.norm': norms };
      if (a) out['neurons.outputWeight'] = a;
      const refs = params.references ? { rows: params.references.length, cols: w.cols, data: Float64Array.from(params.references.flat()) } : ctx.split.directions;
      if (refs && refs.cols === w.cols) {
        const table = cosineTable(w, dense(refs));
        let weighted = 0;
        let total = 0;
        for (let j = 0; j < w.rows; j++) {
          let best = 0;
          for (let t = 0; t < table.cols; t++) best = Math.max(best, Math.abs(table.data[j * table.cols + t]));
          weighted += weights[j] * best;
          total += weights[j];
        }
        out['neurons.teacherAlignment'] = total > 0 ? weighted / total : null;
        // Duzgun et al. (2024), Fig. 5: how many neurons each signal vector activates.
        for (let t = 0; t < table.cols; t++) {
          let count = 0;
          for (let j = 0; j < w.rows; j++) if (Math.abs(table.data[j * table.cols + t]) >= params.alignedCosine && norms[j] > 0) count++;
          out[`neurons.aligned.${t}`] = count;
        }
        for (let t = 0; t < table.cols; t++) out[`neurons.teacherCosine.${t}`] = Array.from({ length: w.rows }, (_, j) => table.data[j * table.cols + t]);
      }
      return out;
    },
  }),
  define({
    name: 'layers',
    summary:
      'per layer: alignment of its weights with its input representation (Xu & Ziyin 2025, ζ generalized), relative distance from init, Frobenius norm, stable and effective rank; the signed ζ of the output row (at the effective point x = √E[a²]·e on 1D data)',
    cost: 'a forward pass over min(n, samples) points and one eigendecomposition per layer, O(Σ width³)',
    params: z.strictObject({ samples }),
    problems: (spec) => (spec.model.family === 'cnn' ? ['is not defined for the cnn family yet (its per-layer alignment needs each filter against its input patches)'] : []),
    compute(ctx, params) {
      const { model, member } = ctx;
      const inputs = firstRows(ctx.split.train.inputs, params.samples);
      const trace = model.trace(member, inputs);
      const out = weightMovement(model, member);
      for (let l = 0; l < model.layerCount; l++) {
        const w = model.effectiveWeights(member, l);
        out[`layer${l}.stableRank`] = guarded(() => stableRank(model.backend, w));
        out[`layer${l}.effectiveRank`] = guarded(() => effectiveRank(singularValuesViaGram(model.backend, w)));
        if (l > 0) {
          const h = { rows: inputs.rows, cols: w.cols, data: trace.post[l - 1] };
          out[`layer${l}.alignment`] = guarded(() => layerAlignment(model.backend, w, h));
        }
      }
      if (model.outputDim === 1) {
        const u = model.effectiveWeights(member, model.layerCount - 1).data;
        const train = ctx.split.train;
        const e = ctx.split.directions;
        if (ctx.split.train.inputs.cols === e?.cols && e.rows === 1 && isCollinear(train.inputs, e.data)) {
          // 1D data collapse to one effective point (seed 002, Proposition 1).
          let ay = 0;
          for (let i = 0; i < train.inputs.rows; i++) {
            let a = 0;
            for (let c = 0; c < e.cols; c++) a += train.inputs.data[i * e.cols + c] * e.data[c];
            ay += a * train.targets[i];
          }
          const xNorm = effectiveInputNorm(train.inputs, e.data);
          const point = { rows: 1, cols: e.cols, data: Float64Array.from(e.data, (v) => v * xNorm) };
          const t = model.trace(member, point);
          const h = t.post[t.post.length - 1];
          const alpha = model.strengthKnobs(member).outputScale;
          out.alignmentAngle = guarded(() => signedAlignment(u, h));
          // The effective point's numbers, enough to draw the closed form (seed 002, §3.3).
          out['point.inputNorm'] = xNorm;
          out['point.target'] = ay / train.inputs.rows / xNorm;
          out['point.output'] = alpha * u.reduce((s, v, j) => s + v * h[j], 0);
          out['point.hiddenNorm'] = Math.hypot(...h);
          out['point.outputNorm'] = alpha * Math.hypot(...Array.from(u));
        } else {
          const h = trace.post[trace.post.length - 1];
          const width = u.length;
          out.alignmentAngle = guarded(() => {
            let s = 0;
            for (let i = 0; i < inputs.rows; i++) s += signedAlignment(u, h.subarray(i * width, (i + 1) * width));
            return s / inputs.rows;
          });
        }
      }
      return out;
    },
  }),
  define({
    name: 'weights',
    summary:
      'how far training moved the weights, for any family: the relative distance from init ‖θ − θ₀‖/‖θ₀‖ and the norm of all weights ‖θ‖ (Xu & Ziyin 2025, Figs. 3–4), and per weight layer its distance and norm',
    cost: 'one pass over the parameters',
    params: z.strictObject({}),
    compute: (ctx) => weightMovement(ctx.model, ctx.member),
  }),
  define({
    name: 'extremal',
    summary:
      'early alignment (Boursier & Flammarion 2025): the extremal vectors of D(w) = (1/n) Σ 1{⟨w,x_k⟩>0} y_k x_k (D(w) = G·w, G > 0 for neurons with a_j > 0, G < 0 for a_j < 0), and the share of the neurons’ mass |a_j|·‖w_j‖ within `angle` of one of their sign, beside the share for random directions; with a teacher direction β*, the angle of the positive extremal vector nearest it (Thm 3.1: it concentrates on β* as n grows)',
    cost: 'the extremal vectors once per trial (starts × iterations × n·d); then O(m·E·d) per evaluation',
    params: z.strictObject({ angle: z.number().positive().max(90).default(10), starts: z.number().int().min(1).default(256), chanceSamples: z.number().int().min(100).default(4000) }),
    problems(spec) {
      const problems: string[] = [];
      if (spec.model.family === 'cnn' || spec.model.hiddenWidths.length !== 1) problems.push('needs a two-layer fully connected net (model.hiddenWidths of length 1)');
      if (targetKindOf(spec.data) === 'classes') problems.push('needs one output with ±1 or real targets; the data has more than two classes');
      return problems;
    },
    compute(ctx, params) {
      const { model, member, split } = ctx;
      const train = split.train;
      if (model.layerCount !== 2 || model.outputDim !== 1 || train.targetDim !== 1 || train.kind === 'classes')
        throw new MetricError('extremal: needs a two-layer net with one output and ±1 or real targets');
      const bias = model.effectiveBiases(member, 0);
      // A hidden bias is a weight on a constant input coordinate.
      const inputs = bias ? appendColumn(dense(train.inputs), () => 1) : dense(train.inputs);
      const found = remember(ctx, 'extremal.vectors', () => extremalVectors(inputs, train.targets, { starts: params.starts }));
      const chance = remember(ctx, 'extremal.chance', () => {
        const rng = Rng.fromSeed(0).child('extremal-chance');
        let positive = 0;
        let negative = 0;
        for (let i = 0; i < params.chanceSamples; i++) {
          const v = Float64Array.from({ length: inputs.cols }, () => rng.gaussian());
          if (angleToNearest(v, found.positive) <= params.angle) positive++;
          if (angleToNearest(v, found.negative) <= params.angle) negative++;
        }
        return { positive: positive / params.chanceSamples, negative: negative / params.chanceSamples };
      });
      const w = bias ? appendColumn(model.effectiveWeights(member, 0), (j) => bias[j]) : model.effectiveWeights(member, 0);
      const a = model.effectiveWeights(member, 1).data;
      let total = 0;
      let aligned = 0;
      let angles = 0;
      let chanceMass = 0;
      for (let j = 0; j < w.rows; j++) {
        const row = w.data.subarray(j * w.cols, (j + 1) * w.cols);
        const mass = Math.abs(a[j]) * Math.hypot(...row);
        if (!(mass > 0)) continue;
        const angle = angleToNearest(row, a[j] > 0 ? found.positive : found.negative);
        total += mass;
        angles += mass * angle;
        if (angle <= params.angle) aligned += mass;
        chanceMass += mass * (a[j] > 0 ? chance.positive : chance.negative);
      }
      // Thm 3.1's concentration: for a linear teacher β* on isotropic inputs the population extremal vectors are ±β*;
      // the empirical one nearest +β* sits at an angle that shrinks as n grows.
      const teacher = split.directions && split.directions.cols === inputs.cols && !bias ? split.directions.data.subarray(0, inputs.cols) : null;
      const teacherAngle = teacher && found.positive.length > 0 ? Math.min(...found.positive.map((v) => angleDegrees(v, teacher))) : null;
      return {
        'extremal.positive': found.positive.length,
        'extremal.negative': found.negative.length,
        'extremal.teacherAngle': teacherAngle,
        'extremal.alignedMass': total > 0 ? aligned / total : null,
        'extremal.alignedMass.chance': total > 0 ? chanceMass / total : null,
        'extremal.meanAngle': total > 0 ? angles / total : null,
      };
    },
  }),
  define({
    name: 'kernel',
    summary: 'the empirical NTK on a subsample: distance from the initial NTK (Fort et al. 2020), relative change, kernel–target alignment (Cristianini et al. 2002), trace',
    cost: 'the Jacobian of min(n, samples) points and its Gram matrix, O(samples²·p)',
    params: z.strictObject({ samples: z.number().int().min(2).default(100) }),
    compute(ctx, params) {
      const inputs = firstRows(ctx.split.train.inputs, params.samples);
      const kernel = empiricalNtk(ctx.model, ctx.member, inputs);
      const initial = remember(ctx, 'kernel.initial', () => ctx.model.atInitialization(ctx.member, () => empiricalNtk(ctx.model, ctx.member, inputs)));
      let trace = 0;
      const size = Math.round(Math.sqrt(kernel.length));
      for (let i = 0; i < size; i++) trace += kernel[i * size + i];
      return {
        'ntk.distanceFromInit': kernelDistance(kernel, initial),
        'ntk.relativeChange': kernelRelativeChange(kernel, initial),
        'ntk.targetAlignment': kernelTargetAlignment(kernel, labelVector(ctx, inputs.rows)),
        'ntk.trace': trace,
      };
    },
  }),
  define({
    name: 'jacobian',
    summary:
      "the Jacobian's singular values on a subsample; the information space I (cutoff at the largest spectral gap, or relative/absolute) and the share of the label, clean-label and label-noise energy in it beside chance rank/(n·K); ‖Π_I r‖, ‖Π_N r‖ of the residual and its top singular coordinates against the linearized prediction (Oymak et al. 2019)",
    cost: 'the Jacobian of min(n, samples) points, its Gram matrix and eigendecomposition, O(samples²·p + samples³); with reference "initial" once more at the end',
    params: z.strictObject({
      samples,
      cutoff: z.enum(CUTOFF_RULES).default('gap'),
      /** For cutoff "relative": α = relativeCutoff × λ_1. */
      relativeCutoff: z.number().positive().max(1).default(0.1),
      /** For cutoff "absolute". */
      absoluteCutoff: z.number().positive().optional(),
      /** For cutoff "gap": the largest rank searched (default half the rows). */
      maxRank: z.number().int().min(1).optional(),
      /** For cutoff "rank": I is spanned by this many top singular vectors. */
      rank: z.number().int().min(1).optional(),
      /**
       * Also split every recorded residual on the final Jacobian's spaces, at the end (Oymak et al.'s
       * training curves): the residuals are kept until then, n·K numbers per recording point.
       */
      residualOnFinal: z.boolean().default(false),
      reference: z.enum(['current', 'initial']).default('current'),
      /** Top singular directions whose residual coordinates are recorded (with the linearized prediction). */
      modes: z.number().int().min(0).default(5),
      /** Extra energies on the top-k directions, named labelEnergy.topK (a post-hoc view; the cutoff's numbers are the claim). */
      topK: z.array(z.number().int().min(1)).default([]),
    }),
    problems: (_spec, params) => {
      const missing = missingCutoffValue(params);
      return missing ? [missing] : [];
    },
    compute(ctx, params) {
      const { model, member } = ctx;
      const inputs = firstRows(ctx.split.train.inputs, params.samples);
      const current = () => gramSpectrum(model.backend, model.ntkGram(member, inputs), inputs.rows * model.outputDim);
      const initial = params.reference === 'initial';
      const spectrum = initial ? remember(ctx, 'jacobian.initial', () => model.atInitialization(member, current)) : current();
      const cutoff = { rule: params.cutoff, relative: params.relativeCutoff, absolute: params.absoluteCutoff, maxRank: params.maxRank, rank: params.rank };
      const missing = missingCutoffValue(params);
      if (missing) throw new MetricError(`jacobian: ${missing}`);
      const space = informationSpace(spectrum, cutoff);
      const rank = space.rank;
      const y = labelVector(ctx, inputs.rows);
      const residual = Float64Array.from(outputsOf(model, member, inputs), (v, i) => v - y[i]);
      // Labels and a fixed reference do not change between recording points: their energies are computed once.
      const labels = initial ? remember(ctx, 'jacobian.labelEnergies', () => labelEnergies(ctx, spectrum, y)) : labelEnergies(ctx, spectrum, y);
      const residualCoefficients = modeCoefficients(spectrum, residual);
      // Vectors that do not change under a fixed reference are stored once; under "current" at the first and last evaluation.
      const first = !ctx.state.has('jacobian.seen');
      ctx.state.set('jacobian.seen', true);
      const out: MetricValues = {
        'jacobian.informationRank': rank,
        'jacobian.cutoff': space.cutoff,
        'jacobian.gapRatio': Number.isFinite(space.gapRatio) ? space.gapRatio : null,
        'jacobian.chanceEnergy': rank / spectrum.size,
        'jacobian.residualEnergy.information': null,
      };
      if (first || ctx.final) out['jacobian.singularValues'] = spectrum.singularValues;
      for (const [name, energy] of Object.entries(labels)) {
        out[`jacobian.${name}.information`] = rank > 0 ? energy[rank - 1] : 0;
        if (first || (ctx.final && !initial)) out[`jacobian.${name}.byRank`] = energy;
      }
      out['jacobian.labelEnergy.nuisance'] = 1 - (out['jacobian.labelEnergy.information'] as number);
      for (const k of params.topK) if (k <= spectrum.size) out[`jacobian.labelEnergy.top${k}`] = labels.labelEnergy[k - 1];
      const norms = splitNorms(spectrum, residual, rank, residualCoefficients);
      out['jacobian.residual.information'] = norms.information;
      out['jacobian.residual.nuisance'] = norms.nuisance;
      const residualSquared = norms.information ** 2 + norms.nuisance ** 2;
      if (residualSquared > 0) out['jacobian.residualEnergy.information'] = norms.information ** 2 / residualSquared;
      if (params.modes > 0) Object.assign(out, residualModes(ctx, spectrum, residualCoefficients, inputs, Math.min(params.modes, spectrum.size), initial));
      if (params.residualOnFinal) {
        const kept = remember(ctx, 'jacobian.residuals', () => [] as { step: number; residual: Float64Array }[]);
        kept.push({ step: ctx.step, residual });
      }
      if (ctx.final && (initial || params.residualOnFinal)) {
        // The Jacobian after training: its own information space, and how much label energy the initial rank now holds.
        const after = initial ? current() : spectrum;
        const own = informationSpace(after, cutoff);
        const energy = cumulativeEnergy(after, y);
        if (initial) out['jacobian.final.singularValues'] = after.singularValues;
        out['jacobian.final.informationRank'] = own.rank;
        out['jacobian.final.labelEnergy.information'] = own.rank > 0 ? energy[own.rank - 1] : 0;
        if (initial) out['jacobian.final.labelEnergy.atInitialRank'] = rank > 0 ? energy[rank - 1] : 0;
        if (initial) out['jacobian.final.labelEnergy.byRank'] = energy;
        for (const k of params.topK) if (k <= after.size) out[`jacobian.final.labelEnergy.top${k}`] = energy[k - 1];
        if (params.residualOnFinal) Object.assign(out, residualsOnFinal(after, own.rank, ctx.state.get('jacobian.residuals') as { step: number; residual: Float64Array }[]));
      }
      return out;
    },
  }),
  define({
    name: 'features',
    summary:
      'last-hidden-layer features: linear-probe test accuracy (Duzgun et al. 2024, Def. 2.5), linear CKA and feature span error from the initial features (Kornblith et al. 2019; Def. 2.2), effective rank',
    cost: 'features of min(n, samples) training and test points, one ridge solve O(samples·m² + m³), the CKA Gram matrices O(samples²·m)',
    params: z.strictObject({ samples, lambda: z.number().positive().default(1e-3), probe: z.enum(['ridge', 'logistic']).default('ridge') }),
    compute(ctx, params) {
      const { model, member, split } = ctx;
      const backend = model.backend;
      const trainInputs = firstRows(split.train.inputs, params.samples);
      const testInputs = firstRows(split.test.inputs, params.samples);
      const train = model.features(member, trainInputs);
      const out: MetricValues = {};
      const initial = remember(ctx, 'features.initial', () =>
        model.atInitialization(member, () => ({ train: model.features(member, trainInputs), test: testInputs.rows ? model.features(member, testInputs) : null })),
      );
      if (testInputs.rows > 0 && split.train.kind !== 'regression') {
        const test = model.features(member, testInputs);
        const classes = split.train.kind === 'classes' ? split.train.classes : 2;
        const probe = params.probe === 'ridge' ? ridgeProbeAccuracy : logisticProbeAccuracy;
        out['features.probeAccuracy'] = probe(backend, train, split.train.targets.subarray(0, train.rows), test, split.test.targets.subarray(0, test.rows), classes, params.lambda);
        if (initial.test) out['features.spanErrorFromInit'] = guarded(() => featureSpanError(backend, initial.train, train, initial.test as Dense, test, params.lambda));
      }
      out['features.ckaToInit'] = guarded(() => cka(backend, train, initial.train));
      out['features.effectiveRank'] = guarded(() => effectiveRank(singularValuesViaGram(backend, train)));
      return out;
    },
  }),
  define({
    name: 'gradient',
    summary: 'stationarity: ‖∇L(θ)‖₂, the gradient of the training loss over the trained (stored) parameters on the full training set, as the gradientTolerance stop rule tests it, and ‖∇L‖/‖θ‖',
    cost: 'one forward and backward pass over the training set',
    params: z.strictObject({}),
    compute(ctx) {
      const { model, member, split, dynamics } = ctx;
      if (!dynamics) return { 'gradient.norm': null, 'gradient.relative': null };
      const mask = new Uint8Array(model.ensembleSize);
      mask[member] = 1;
      const gradients = model.allocateGradients();
      const outputs = allocate(model.ensembleSize * split.train.inputs.rows * model.outputDim, model.dtype);
      model.lossGradient(split.train.inputs, split.train.targets, dynamics.loss, outputs, new Float64Array(model.ensembleSize), gradients, mask);
      const norm = model.gradientNorm(member, gradients);
      const size = vectorNorm(model.parameters(member));
      return { 'gradient.norm': norm, 'gradient.relative': size > 0 ? norm / size : null };
    },
  }),
  define({
    name: 'mixture',
    summary:
      'over-alignment in the gaussianMixture task (Yeom et al. 2026): the neurons’ contribution-weighted angle (degrees) to the empirical class mean of their sign (x̄₊ for a_j > 0, x̄₋ for a_j < 0) and to ±s, the class means’ own angle to ±s, the predictor β_f = Σ a_j w_j against x̄₊ − x̄₋ and s, and ‖θ‖/‖θ₀‖ (phase 1 ends as it leaves 1); each angle beside its value for the initial random neurons (mixture.random.*)',
    cost: 'O(m·d + n·d)',
    params: z.strictObject({}),
    problems(spec) {
      const problems: string[] = [];
      if (spec.data.name || spec.data.task !== 'gaussianMixture') problems.push('needs the gaussianMixture data task (its class means and Bayes direction s)');
      if (spec.model.family === 'cnn' || (spec.model.hiddenWidths?.length ?? 1) !== 1) problems.push('needs a two-layer fully connected net with one output');
      return problems;
    },
    compute(ctx) {
      const { model, member, split } = ctx;
      const train = split.train;
      const s = split.directions;
      if (model.layerCount !== 2 || model.outputDim !== 1 || !s) throw new MetricError('mixture: needs a two-layer net with one output on the gaussianMixture task');
      const x = dense(train.inputs);
      const means = remember(ctx, 'mixture.means', () => ({ plus: classMean(x, train.targets, 1), minus: classMean(x, train.targets, -1) }));
      const angles = () => mixtureAngles(model.effectiveWeights(member, 0), model.effectiveWeights(member, 1).data, means.plus, means.minus, s.data);
      const random = remember(ctx, 'mixture.random', () => model.atInitialization(member, angles));
      const now = angles();
      const size = vectorNorm(model.parameters(member));
      const initialSize = remember(ctx, 'mixture.initialSize', () => model.atInitialization(member, () => vectorNorm(model.parameters(member))));
      return {
        'mixture.angleToMean': now.angleToMean,
        'mixture.angleToBayes': now.angleToBayes,
        'mixture.meanToBayes': now.meanToBayes,
        'mixture.predictorToMean': now.predictorToMean,
        'mixture.predictorToBayes': now.predictorToBayes,
        'mixture.random.angleToMean': random.angleToMean,
        'mixture.random.angleToBayes': random.angleToBayes,
        'mixture.normGrowth': initialSize > 0 ? size / initialSize : null,
      };
    },
  }),
  define({
    name: 'linearBaseline',
    summary:
      'least squares β̂ from the inputs to the targets on the same data (Boursier & Flammarion 2025: above the optimization threshold the net tracks it): its training and test loss, ½ mean squared error; for a two-layer net with one output, the share of the neurons’ mass |a_j|·‖w_j‖ within `angle` degrees of sign(a_j)·β̂ (the collapse onto ±β̂) beside the share for random directions',
    cost: 'one least-squares solve, O(n·d² + d³), computed once per trial; O(m·d) for the neurons',
    params: z.strictObject({ ridge: z.number().min(0).default(1e-10), angle: z.number().positive().max(90).default(10) }),
    problems: (spec) => (targetKindOf(spec.data) !== 'regression' ? ['needs real-valued targets (data.labels value); the data has labels'] : []),
    compute(ctx, params) {
      const { train, test } = ctx.split;
      if (train.kind !== 'regression') throw new MetricError('linearBaseline needs real-valued targets');
      const baseline = remember(ctx, 'linearBaseline', () => {
        const backend = ctx.model.backend;
        const x = dense(train.inputs);
        const q = train.targetDim;
        const w = backend.ridgeSolve(x.data, x.rows, x.cols, train.targets, q, params.ridge);
        const loss = (inputs: Dense, targets: Float64Array) => {
          if (inputs.rows === 0) return null;
          const fitted = new Float64Array(inputs.rows * q);
          backend.gemm(false, false, inputs.rows, q, inputs.cols, 1, inputs.data, w, 0, fitted);
          let s = 0;
          for (let i = 0; i < fitted.length; i++) s += 0.5 * (fitted[i] - targets[i]) ** 2;
          return s / inputs.rows;
        };
        return { w, values: { 'baseline.trainLoss': loss(x, train.targets), 'baseline.testLoss': loss(dense(test.inputs), test.targets) } };
      });
      const { model, member } = ctx;
      const biased = model.effectiveBiases(member, 0) !== null;
      if (model.layerCount !== 2 || model.outputDim !== 1 || train.targetDim !== 1 || biased) return baseline.values;
      const collapse = signedDirectionMass(model.effectiveWeights(member, 0), model.effectiveWeights(member, 1).data, baseline.w, params.angle);
      return { ...baseline.values, 'baseline.alignedMass': collapse.mass, 'baseline.alignedMass.chance': collapse.chance };
    },
  }),
];

/** A metric without a value for this state (dead features, zero weights) is stored as null. */
function guarded(f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof MetricError) return null;
    throw e;
  }
}

function isCollinear(inputs: { rows: number; cols: number; data: ArrayLike<number> }, e: ArrayLike<number>): boolean {
  for (let i = 0; i < inputs.rows; i++) {
    let a = 0;
    let xx = 0;
    for (let c = 0; c < inputs.cols; c++) {
      a += inputs.data[i * inputs.cols + c] * e[c];
      xx += inputs.data[i * inputs.cols + c] ** 2;
    }
    if (Math.abs(xx - a * a) > 1e-9 * Math.max(xx, 1)) return false;
  }
  return true;
}

export const METRIC_NAMES = METRICS.map((m) => m.name) as [string, ...string[]];

export interface MetricRequest {
  readonly name: string;
  readonly at: 'record' | 'final';
  readonly every: number;
  readonly params?: unknown;
}

/** One entry of a trial spec's `metrics` list. */
export const metricRequestSchema = z.discriminatedUnion(
  'name',
  METRICS.map((m) =>
    z.strictObject({
      name: z.literal(m.name),
      /** "record": at recording points (every `every`-th); "final": only at the end. */
      at: z.enum(['record', 'final']).default('record'),
      every: z.number().int().min(1).default(1),
      params: m.params.optional(),
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  // zod cannot infer a union built from a list; the shape is the one written above.
) as unknown as z.ZodType<MetricRequest, { name: string; at?: 'record' | 'final'; every?: number; params?: unknown }>;


/** The hook that evaluates the requested metrics at recording points; a MetricError becomes null values. */
export function metricsHook(requests: readonly MetricRequest[]): RecordHook {
  const states = new Map<number, Map<string, unknown>>();
  const counts = new Map<number, number>();
  return ({ model, member, split, step, time, final, dynamics, diverged }) => {
    const state = states.get(member) ?? new Map<string, unknown>();
    states.set(member, state);
    const index = counts.get(member) ?? 0;
    counts.set(member, index + 1);
    const values: MetricValues = {};
    for (const request of requests) {
      const metric = METRICS.find((m) => m.name === request.name);
      if (!metric) throw new Error(`metrics: unknown metric "${request.name}"; known: ${METRIC_NAMES.join(', ')}`);
      const due = final || (request.at === 'record' && index % request.every === 0);
      if (!due) continue;
      const params = metric.params.parse(request.params ?? {});
      try {
        Object.assign(values, metric.compute({ model, member, split, step, time, final, state, dynamics }, params as never));
      } catch (e) {
        // A metric has no value for this state; on a diverged net any failure is that, never the trial's.
        if (!(e instanceof MetricError) && !diverged) throw e;
        values[`${request.name}.error`] = null;
      }
    }
    return values;
  };
}

