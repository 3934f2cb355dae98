/** What a data spec's targets will be, known before the data is built (for checks made before a run). */
import type { TargetKind } from './dataset.js';
import { DATASET_CLASSES, type RealDataset } from './realDatasetNames.js';

/**
 * Real-valued targets (`labels: value`: real synthetic targets, or one-hot rows of a data set's
 * classes), class indices (a data set with more than two kept classes) or ±1 signs otherwise.
 */
export function targetKindOf(data: { readonly name?: RealDataset; readonly classes?: readonly number[]; readonly labels: 'sign' | 'value' }): TargetKind {
  if (data.labels === 'value') return 'regression';
  if (!data.name) return 'binary';
  return (data.classes?.length ?? DATASET_CLASSES[data.name].length) > 2 ? 'classes' : 'binary';
}
