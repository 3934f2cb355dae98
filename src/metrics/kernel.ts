/** Kernel-level measures of laziness: the empirical NTK, its movement, and its alignment with the labels. */
import type { Matrix } from '../linalg/matrix.js';
import type { Model } from '../models/model.js';
import { MetricError } from './metric.js';

/** K = J Jᵀ over the given inputs, (n·outputs)² (Jacot et al. 2018's empirical NTK at the current weights). */
export function empiricalNtk(model: Model, member: number, inputs: Matrix): Float64Array {
  return model.ntkGram(member, inputs);
}

function frobeniusInner(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** yᵀ K y / (‖K‖_F ‖y‖²) (Cristianini et al. 2002, kernel–target alignment). */
export function kernelTargetAlignment(kernel: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  if (kernel.length !== n * n) throw new MetricError(`kernel–target alignment: kernel of ${kernel.length} entries for ${n} targets`);
  let yKy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) yKy += y[i] * kernel[i * n + j] * y[j];
  const kNorm = Math.sqrt(frobeniusInner(kernel, kernel));
  const yy = frobeniusInner(y, y);
  if (kNorm === 0 || yy === 0) throw new MetricError('kernel–target alignment: the kernel or the targets are zero');
  return yKy / (kNorm * yy);
}

/** 1 − ⟨K, K₀⟩_F / (‖K‖_F ‖K₀‖_F) (Fort et al. 2020, kernel distance): 0 for a lazy run. */
export function kernelDistance(kernel: ArrayLike<number>, initial: ArrayLike<number>): number {
  const a = Math.sqrt(frobeniusInner(kernel, kernel));
  const b = Math.sqrt(frobeniusInner(initial, initial));
  if (a === 0 || b === 0) throw new MetricError('kernel distance: a kernel is zero');
  return Math.max(0, 1 - frobeniusInner(kernel, initial) / (a * b));
}

/** ‖K − K₀‖_F / ‖K₀‖_F. */
export function kernelRelativeChange(kernel: ArrayLike<number>, initial: ArrayLike<number>): number {
  let diff = 0;
  for (let i = 0; i < kernel.length; i++) diff += (kernel[i] - initial[i]) ** 2;
  const b = frobeniusInner(initial, initial);
  if (b === 0) throw new MetricError('kernel change: the initial kernel is zero');
  return Math.sqrt(diff / b);
}
