/**
 * Checks made before anything runs or is written, over the whole expanded sweep: per-layer lists
 * against the number of layers, the data against the data set (sizes, classes, projection) and the
 * memory a trial needs (the trial count is checked before expansion, in parseExperiment). Each
 * problem is one line naming the field; limits can be raised by a flag.
 */
import { totalmem } from 'node:os';
import { realDataProblems } from '../data/real.js';
import { syntheticInputDim } from '../data/synthetic.js';
import { lossMismatch, targetKindOf } from '../data/targets.js';
import { DEFAULT_MAX_TRIALS, type ExpandedTrial } from './experimentSpec.js';
import type { TrialSpec } from './trialSpec.js';
import { familyOf } from '../models/families.js';
import { METRICS } from '../metrics/registry.js';
import { stepsPerEpoch } from '../train/trainer.js';

export interface Limits {
  /** Trials in one experiment (--max-trials). */
  readonly maxTrials: number;
  /** Bytes one trial may need (--max-memory, in GiB on the command line). */
  readonly maxBytes: number;
}

export function defaultLimits(): Limits {
  // Three quarters of this machine's memory: a trial past it would be killed by the system or V8.
  return { maxTrials: DEFAULT_MAX_TRIALS, maxBytes: Math.floor(0.75 * totalmem()) };
}

const GIB = 2 ** 30;

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 40 ? `${(bytes / 2 ** 40).toPrecision(3)} TiB` : bytes >= GIB ? `${(bytes / GIB).toPrecision(3)} GiB` : `${(bytes / 2 ** 20).toPrecision(3)} MiB`;
}

/**
 * A lower bound on the memory of one trial, in bytes (its model family's estimate); a comparison
 * trial holds two wide nets and 2·copies narrow ones.
 */
export function trialBytes(spec: TrialSpec, inputDim: number): number {
  const family = familyOf(spec.model);
  const points = spec.data.n + spec.data.nTest;
  const one = family.memoryBytes(spec.model, inputDim, points);
  const c = spec.comparison;
  if (!c) return one;
  const copies = c.copies ?? Math.max(1, Math.round(1 / c.widthFraction));
  return 2 * one + 2 * copies * family.memoryBytes(family.withWidthFraction(spec.model, c.widthFraction), inputDim, points);
}

/** Problems of one trial that need no data: per-layer lists, its family's own and its size. */
export function trialProblems(spec: TrialSpec, limits: Limits): string[] {
  const problems: string[] = [];
  const family = familyOf(spec.model);
  const layers = family.layerCount(spec.model);
  const { initScale, frozenLayers } = spec.model;
  if (Array.isArray(initScale) && initScale.length !== layers) problems.push(`model.initScale: ${initScale.length} values for ${layers} weight layers (one per layer, or one number)`);
  const rates = spec.training.layerLearningRates;
  if (rates && rates.length !== layers) problems.push(`training.layerLearningRates: ${rates.length} values for ${layers} weight layers`);
  frozenLayers.forEach((l, i) => {
    if (l >= layers) problems.push(`model.frozenLayers.${i}: layer ${l} of a net with weight layers 0 to ${layers - 1}`);
  });
  problems.push(...family.problems(spec.model, { task: spec.data.name ?? spec.data.task }));
  problems.push(...teacherDirectionProblems(spec));
  const mismatch = lossMismatch(spec.training.loss, targetKindOf(spec.data));
  if (mismatch) problems.push(mismatch);
  spec.metrics.forEach((request, i) => {
    const metric = METRICS.find((m) => m.name === request.name);
    for (const p of metric?.problems?.(spec, metric.params.parse(request.params ?? {})) ?? []) problems.push(`metrics.${i} (${request.name}): ${p}`);
  });
  const batchSize = spec.training.batchSize;
  if (batchSize !== undefined && batchSize > spec.data.n) problems.push(`training.batchSize: ${batchSize} is more than the ${spec.data.n} training points (data.n); a minibatch is at most the whole set`);
  const { maxEpochs, maxSteps, windowStationarity } = spec.training.stop;
  if (windowStationarity && (spec.training.optimizer === 'gradientFlow' || stepsPerEpoch(spec.training, spec.data.n) > 1))
    problems.push(`training.stop.windowStationarity: needs full-batch steps (optimizer gd, or adam without batchSize), got ${spec.training.optimizer}${spec.training.batchSize !== undefined ? ` with batchSize ${spec.training.batchSize}` : ''}`);
  const epochSteps = stepsPerEpoch(spec.training, spec.data.n);
  if (maxEpochs !== undefined && maxEpochs * epochSteps > maxSteps)
    problems.push(`training.stop.maxEpochs: ${maxEpochs} epochs of ${epochSteps} steps are ${maxEpochs * epochSteps} steps, more than stop.maxSteps (${maxSteps}); raise maxSteps to at least that`);
  // Real data sets have their own input size; their pixels bound it from above.
  const inputDim = spec.data.name ? (spec.data.projection?.dim ?? 3072) : syntheticInputDim(spec.data);
  const bytes = trialBytes(spec, inputDim);
  if (bytes > limits.maxBytes) {
    const size = family.sizeOf(spec.model);
    problems.push(`${size.field} / data.n: this trial needs at least ${formatBytes(bytes)} (${size.text}, n ${spec.data.n} + nTest ${spec.data.nTest}), over the limit of ${formatBytes(limits.maxBytes)} (--max-memory GiB raises it)`);
  }
  return problems;
}

/** Given teacher directions must be nonzero rows of the input's dimension (and one per teacher neuron for a ReLU teacher). */
function teacherDirectionProblems(spec: TrialSpec): string[] {
  const d = spec.data;
  const rows = d.teacherDirections;
  if (!rows || d.name) return [];
  const problems: string[] = [];
  rows.forEach((r, i) => {
    if (r.length !== d.inputDim) problems.push(`data.teacherDirections.${i}: has ${r.length} entries, data.inputDim is ${d.inputDim}`);
    else if (r.every((v) => v === 0)) problems.push(`data.teacherDirections.${i}: the zero vector has no direction`);
  });
  if (d.task === 'teacher' && rows.length !== d.teacherWidth) problems.push(`data.teacherDirections: ${rows.length} directions for data.teacherWidth ${d.teacherWidth} teacher neurons (one each)`);
  return problems;
}

/** Every problem of an expanded sweep, each once, checked before the store is opened. */
export function sweepProblems(trials: readonly ExpandedTrial[], limits: Limits): string[] {
  const problems = new Set<string>();
  const checkedData = new Set<string>();
  for (const t of trials) {
    for (const p of trialProblems(t.spec, limits)) problems.add(p);
    const d = t.spec.data;
    if (!d.name) continue;
    const key = JSON.stringify([d.name, d.classes, d.n, d.nTest, d.perClass, d.projection]);
    if (checkedData.has(key)) continue;
    checkedData.add(key);
    for (const p of realDataProblems({ name: d.name, classes: d.classes, n: d.n, nTest: d.nTest, perClass: d.perClass, projection: d.projection })) problems.add(p);
  }
  return [...problems];
}
