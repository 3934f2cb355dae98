/** What a data spec's targets will be, known before the data is built (for checks made before a run). */
import type { Loss } from '../linalg/elementwise.js';
import type { TargetKind } from './dataset.js';
import { DATASET_CLASSES, type RealDataset } from './realDatasetNames.js';
import { syntheticClassCount, type SyntheticTask } from './synthetic.js';

/**
 * Real-valued targets (`labels: value`: real targets of a teacher, or one-hot rows of a data set's
 * classes; line1d's always), class indices (a data set with more than two kept classes, synthetic images
 * of more than two) or ±1 signs otherwise (separable, xor and parity always).
 */
export function targetKindOf(data: {
  readonly name?: RealDataset;
  readonly classes?: readonly number[];
  readonly labels: 'sign' | 'value';
  readonly task?: SyntheticTask;
  readonly images?: { readonly classes?: number };
  readonly clusters?: { readonly classes?: number };
}): TargetKind {
  if (data.name) {
    if (data.labels === 'value') return 'regression';
    return (data.classes?.length ?? DATASET_CLASSES[data.name].length) > 2 ? 'classes' : 'binary';
  }
  const classes = syntheticClassCount(data);
  if (classes !== null) return data.labels === 'value' ? 'regression' : classes > 2 ? 'classes' : 'binary';
  switch (data.task) {
    case 'line1d':
      return 'regression';
    case 'separable':
    case 'xor':
    case 'parity':
      return 'binary';
    default:
      return data.labels === 'value' ? 'regression' : 'binary';
  }
}

/** The targets each loss trains on. */
export const LOSS_TARGETS: Readonly<Record<Loss, readonly TargetKind[]>> = { logistic: ['binary'], crossEntropy: ['classes'], square: ['binary', 'regression'] };

const TARGETS_TEXT: Record<TargetKind, string> = { binary: '±1 labels', classes: 'class indices', regression: 'real targets' };

/** One line naming the loss, what it needs and what the data gives, or null where they fit. */
export function lossMismatch(loss: Loss, kind: TargetKind): string | null {
  if (LOSS_TARGETS[loss].includes(kind)) return null;
  const hint = kind === 'classes' ? 'use "crossEntropy"' : kind === 'binary' ? 'use "logistic" or "square"' : 'use "square", or data.labels "sign" for labels';
  return `training.loss: "${loss}" needs ${LOSS_TARGETS[loss].map((k) => TARGETS_TEXT[k]).join(' or ')}; the data gives ${TARGETS_TEXT[kind]} (${hint})`;
}
