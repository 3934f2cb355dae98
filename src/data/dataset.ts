/** A labelled data set and how its labels are read (for errors and for checking the loss fits). */
import type { FloatArray, Matrix } from '../linalg/matrix.js';

export const TARGET_KINDS = ['binary', 'classes', 'regression'] as const;
/** binary: targets ±1; classes: class index 0..classes−1; regression: real targets (n × targetDim). */
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface Dataset {
  readonly inputs: Matrix;
  readonly targets: Float64Array;
  readonly targetDim: number;
  readonly kind: TargetKind;
  readonly classes: number;
}

export interface DataSplit {
  readonly train: Dataset;
  readonly test: Dataset;
  /** 1 where a training label was corrupted by label noise, or null without noise. */
  readonly noisyTrain: Uint8Array | null;
  /** The training targets before label noise (same layout as train.targets), or null without noise. */
  readonly cleanTrainTargets: Float64Array | null;
  /** Reference directions of the task (teacher neurons, signal vectors), rows of unit vectors. */
  readonly directions: Matrix | null;
  /** [channels, height, width] of inputs that are images (each row stored channel-first), absent for vectors. */
  readonly imageShape?: readonly [number, number, number];
}

/**
 * The labels as real targets for the square loss (data's `labels: "value"`): ±1 labels as they are,
 * class indices as one-hot rows of `classes` entries (the row vector y ∈ R^{n·K} of Oymak et al.).
 */
export function asValueTargets(data: Dataset): Dataset {
  if (data.kind === 'regression') return data;
  if (data.kind === 'binary') return { ...data, kind: 'regression' };
  const k = data.classes;
  const targets = new Float64Array(data.targets.length * k);
  data.targets.forEach((label, i) => (targets[i * k + label] = 1));
  return { ...data, targets, targetDim: k, kind: 'regression' };
}

/**
 * 1 for each point misclassified by outputs (n × width), or null for real-valued targets.
 * A zero output counts as an error for binary labels.
 */
export function misclassifiedPoints(data: Dataset, outputs: FloatArray, width: number): Uint8Array | null {
  const n = data.inputs.rows;
  const wrong = new Uint8Array(n);
  // ±1 targets given as real values (the square loss on two classes) are classified by sign too.
  const signs = data.kind === 'regression' && data.targetDim === 1 && width === 1 && data.targets.every((y) => y === 1 || y === -1);
  if (data.kind === 'binary' || signs) {
    for (let i = 0; i < n; i++) if (!(outputs[i * width] * data.targets[i] > 0)) wrong[i] = 1;
  } else if (data.kind === 'classes' || (data.kind === 'regression' && data.classes > 2 && data.targetDim === width)) {
    // Class indices, or one-hot rows as real targets (multi-class labels for the square loss).
    const k = data.targetDim;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < width; c++) if (outputs[i * width + c] > outputs[i * width + best]) best = c;
      const label = data.kind === 'classes' ? data.targets[i] : data.targets.subarray(i * k, (i + 1) * k).indexOf(1);
      if (best !== label) wrong[i] = 1;
    }
  } else return null;
  return wrong;
}

/** Fraction of points misclassified by outputs (n × width), or null for real-valued targets or no points. */
export function classificationError(data: Dataset, outputs: FloatArray, width: number): number | null {
  const n = data.inputs.rows;
  const wrong = n === 0 ? null : misclassifiedPoints(data, outputs, width);
  return wrong ? wrong.reduce((a, b) => a + b, 0) / n : null;
}

/** Fraction of points with some |f − y| above tolerance (regression's notion of interpolation). */
export function misfitFraction(data: Dataset, outputs: FloatArray, width: number, tolerance: number): number {
  const n = data.inputs.rows;
  if (data.kind !== 'regression') return classificationError(data, outputs, width) ?? 0;
  let misfit = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < width; c++)
      if (Math.abs(outputs[i * width + c] - data.targets[i * data.targetDim + c]) > tolerance) {
        misfit++;
        break;
      }
  }
  return misfit / n;
}
