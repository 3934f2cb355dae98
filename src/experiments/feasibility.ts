/**
 * Checks made before anything runs or is written, over the whole expanded sweep: per-layer lists
 * against the number of layers, the data against the data set (sizes, classes, projection) and the
 * memory a trial needs (the trial count is checked before expansion, in parseExperiment). Each
 * problem is one line naming the field; limits can be raised by a flag.
 */
import { totalmem } from 'node:os';
import { realDataProblems } from '../data/real.js';
import { DEFAULT_MAX_TRIALS, type ExpandedTrial } from './experimentSpec.js';
import type { TrialSpec } from './trialSpec.js';

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
 * A lower bound on the memory of one trial, in bytes: parameters held five times (weights, initial
 * copy, gradients, two optimizer moments), three activation buffers per hidden unit for the training
 * and test sets, and the inputs. Its purpose is to stop the absurd before it allocates, not to budget.
 */
export function trialBytes(spec: TrialSpec, inputDim: number): number {
  const width = spec.model.dtype === 'float32' ? 4 : 8;
  const widths = [inputDim, ...spec.model.hiddenWidths, 1];
  let parameters = 0;
  for (let l = 0; l + 1 < widths.length; l++) parameters += widths[l] * widths[l + 1];
  const hidden = spec.model.hiddenWidths.reduce((a, b) => a + b, 0);
  const points = spec.data.n + spec.data.nTest;
  return width * (5 * parameters + 3 * points * hidden) + 8 * points * inputDim;
}

/** Problems of one trial that need no data: per-layer lists and its size. */
export function trialProblems(spec: TrialSpec, limits: Limits): string[] {
  const problems: string[] = [];
  const layers = spec.model.hiddenWidths.length + 1;
  const { initScale, frozenLayers } = spec.model;
  if (Array.isArray(initScale) && initScale.length !== layers) problems.push(`model.initScale: ${initScale.length} values for ${layers} weight layers (one per layer, or one number)`);
  const rates = spec.training.layerLearningRates;
  if (rates && rates.length !== layers) problems.push(`training.layerLearningRates: ${rates.length} values for ${layers} weight layers`);
  frozenLayers.forEach((l, i) => {
    if (l >= layers) problems.push(`model.frozenLayers.${i}: layer ${l} of a net with weight layers 0 to ${layers - 1}`);
  });
  if (spec.model.effectiveInit) {
    if (spec.data.name || spec.data.task !== 'line1d') problems.push(`model.effectiveInit: needs data.task line1d (inputs along one direction), got ${spec.data.name ?? spec.data.task}`);
    if (layers !== 2) problems.push(`model.effectiveInit: needs one hidden layer (model.hiddenWidths of length 1), got ${layers - 1}`);
    if (spec.model.bias) problems.push('model.effectiveInit: needs model.bias: false');
    if (spec.model.hiddenWidths[0] === 1 && Math.abs(spec.model.effectiveInit.alignment) !== 1) problems.push('model.effectiveInit.alignment: a net of width 1 has alignment −1 or 1 only');
  }
  // Real data sets have their own input size; their pixels bound it from above.
  const inputDim = spec.data.name ? (spec.data.projection?.dim ?? 3072) : spec.data.inputDim;
  const bytes = trialBytes(spec, inputDim);
  if (bytes > limits.maxBytes)
    problems.push(`model.hiddenWidths / data.n: this trial needs at least ${formatBytes(bytes)} (widths ${spec.model.hiddenWidths.join(', ')}, n ${spec.data.n} + nTest ${spec.data.nTest}), over the limit of ${formatBytes(limits.maxBytes)} (--max-memory GiB raises it)`);
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
