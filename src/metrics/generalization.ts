/** Margins of a fitted classifier: min and quantiles of y·f(x) (binary) or f_y − max_{c≠y} f_c (classes). */
import type { Dataset } from '../data/dataset.js';
import type { FloatArray } from '../linalg/matrix.js';
import { MetricError } from './metric.js';

export function margins(data: Dataset, outputs: FloatArray, width: number): Float64Array {
  const n = data.inputs.rows;
  if (data.kind === 'regression') throw new MetricError('margins need class labels; the data has real targets');
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (data.kind === 'binary') out[i] = data.targets[i] * outputs[i * width];
    else {
      const y = data.targets[i];
      let other = -Infinity;
      for (let c = 0; c < width; c++) if (c !== y) other = Math.max(other, outputs[i * width + c]);
      out[i] = outputs[i * width + y] - other;
    }
  }
  return out;
}

/** The q-quantile by linear interpolation between order statistics (q in [0, 1]). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new MetricError('quantile of no values');
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
}
