/**
 * The convolutional family's data movements in TypeScript, on channels-last images of n samples:
 * patches gathered into rows (im2col) and scattered back, pooling and its adjoint. The arithmetic of a
 * convolution is the device's gemm over the gathered rows.
 */
import type { FloatArray } from '../../linalg/matrix.js';
import type { ConvOp, Shape } from './plan.js';

/**
 * cols[(i, oy, ox), (ky, kx, c)] = x[i, oy·s − p + ky, ox·s − p + kx, c], zero outside the image:
 * (n·H_out·W_out) × (k·k·C_in), so the convolution is cols · Wᵀ.
 */
export function im2col(op: ConvOp, x: FloatArray, n: number, cols: FloatArray): void {
  const { input: s, output: o, kernel: k, stride, padding } = op;
  const c = s.channels;
  const rowLength = k * k * c;
  let row = 0;
  for (let i = 0; i < n; i++) {
    const image = i * s.height * s.width * c;
    for (let oy = 0; oy < o.height; oy++)
      for (let ox = 0; ox < o.width; ox++, row++) {
        const base = row * rowLength;
        for (let ky = 0; ky < k; ky++) {
          const y = oy * stride - padding + ky;
          for (let kx = 0; kx < k; kx++) {
            const xx = ox * stride - padding + kx;
            const to = base + (ky * k + kx) * c;
            if (y < 0 || y >= s.height || xx < 0 || xx >= s.width) cols.fill(0, to, to + c);
            else {
              const from = image + (y * s.width + xx) * c;
              for (let ch = 0; ch < c; ch++) cols[to + ch] = x[from + ch];
            }
          }
        }
      }
  }
}

/** The adjoint of im2col: dx = Σ over the patches each input value appears in (dx is overwritten). */
export function col2im(op: ConvOp, cols: FloatArray, n: number, dx: FloatArray): void {
  const { input: s, output: o, kernel: k, stride, padding } = op;
  const c = s.channels;
  const rowLength = k * k * c;
  dx.fill(0, 0, n * s.height * s.width * c);
  let row = 0;
  for (let i = 0; i < n; i++) {
    const image = i * s.height * s.width * c;
    for (let oy = 0; oy < o.height; oy++)
      for (let ox = 0; ox < o.width; ox++, row++) {
        const base = row * rowLength;
        for (let ky = 0; ky < k; ky++) {
          const y = oy * stride - padding + ky;
          if (y < 0 || y >= s.height) continue;
          for (let kx = 0; kx < k; kx++) {
            const xx = ox * stride - padding + kx;
            if (xx < 0 || xx >= s.width) continue;
            const from = base + (ky * k + kx) * c;
            const to = image + (y * s.width + xx) * c;
            for (let ch = 0; ch < c; ch++) dx[to + ch] += cols[from + ch];
          }
        }
      }
  }
}

/** Pooling over size × size windows; for max, where[out] records the input index it read (its gradient's one path). */
export function poolForward(kind: 'max' | 'avg', s: Shape, o: Shape, size: number, stride: number, x: FloatArray, n: number, y: FloatArray, where: Int32Array): void {
  const c = s.channels;
  const area = size * size;
  let out = 0;
  for (let i = 0; i < n; i++) {
    const image = i * s.height * s.width * c;
    for (let oy = 0; oy < o.height; oy++)
      for (let ox = 0; ox < o.width; ox++)
        for (let ch = 0; ch < c; ch++, out++) {
          let best = -Infinity;
          let at = -1;
          let sum = 0;
          for (let ky = 0; ky < size; ky++)
            for (let kx = 0; kx < size; kx++) {
              const index = image + ((oy * stride + ky) * s.width + ox * stride + kx) * c + ch;
              const v = x[index];
              sum += v;
              if (v > best || at < 0) {
                best = v;
                at = index;
              }
            }
          if (kind === 'max') {
            y[out] = best;
            where[out] = at;
          } else y[out] = sum / area;
        }
  }
}

export function poolBackward(kind: 'max' | 'avg', s: Shape, o: Shape, size: number, stride: number, dy: FloatArray, n: number, dx: FloatArray, where: Int32Array): void {
  const c = s.channels;
  dx.fill(0, 0, n * s.height * s.width * c);
  const outputs = n * o.height * o.width * c;
  if (kind === 'max') {
    for (let out = 0; out < outputs; out++) dx[where[out]] += dy[out];
    return;
  }
  const share = 1 / (size * size);
  let out = 0;
  for (let i = 0; i < n; i++) {
    const image = i * s.height * s.width * c;
    for (let oy = 0; oy < o.height; oy++)
      for (let ox = 0; ox < o.width; ox++)
        for (let ch = 0; ch < c; ch++, out++) {
          const g = dy[out] * share;
          for (let ky = 0; ky < size; ky++)
            for (let kx = 0; kx < size; kx++) dx[image + ((oy * stride + ky) * s.width + ox * stride + kx) * c + ch] += g;
        }
  }
}

/** y[i, c] = the mean of channel c over the image. */
export function globalAvgPoolForward(s: Shape, x: FloatArray, n: number, y: FloatArray): void {
  const c = s.channels;
  const positions = s.height * s.width;
  y.fill(0, 0, n * c);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < positions; p++) {
      const from = (i * positions + p) * c;
      for (let ch = 0; ch < c; ch++) y[i * c + ch] += x[from + ch];
    }
  for (let j = 0; j < n * c; j++) y[j] /= positions;
}

export function globalAvgPoolBackward(s: Shape, dy: FloatArray, n: number, dx: FloatArray): void {
  const c = s.channels;
  const positions = s.height * s.width;
  for (let i = 0; i < n; i++)
    for (let p = 0; p < positions; p++) {
      const to = (i * positions + p) * c;
      for (let ch = 0; ch < c; ch++) dx[to + ch] = dy[i * c + ch] / positions;
    }
}

/** Data rows stored channel-first (C, H, W), as image files and tensors come, into channels-last rows. */
export function channelsLast(s: Shape, x: FloatArray, n: number, out: FloatArray): void {
  const positions = s.height * s.width;
  const c = s.channels;
  for (let i = 0; i < n; i++) {
    const base = i * positions * c;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < positions; p++) out[base + p * c + ch] = x[base + ch * positions + p];
  }
}
