/**
 * The elementwise maths the fused kernels need: activations (value and derivative in one pass) and
 * per-sample losses with their gradient in the output. Pure functions of numbers, no model knowledge.
 */
import erf from '@stdlib/math-base-special-erf';
import type { FloatArray } from './matrix.js';

export const ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'swish', 'gelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const LOSSES = ['logistic', 'square', 'crossEntropy'] as const;
export type Loss = (typeof LOSSES)[number];

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * value[i] = σ(pre[i]) and derivative[i] = σ'(pre[i]) for i < length, one pass.
 * ReLU's derivative at 0 is taken as 0 (the Clarke subgradient used by the early-alignment papers).
 */
export function applyActivation(
  kind: Activation,
  leak: number,
  pre: FloatArray,
  value: FloatArray,
  derivative: FloatArray,
  length: number,
): void {
  switch (kind) {
    case 'linear':
      for (let i = 0; i < length; i++) {
        value[i] = pre[i];
        derivative[i] = 1;
      }
      return;
    case 'relu':
      // Without branches: half the signs are random, and mispredictions tripled this loop's time.
      // (A non-finite pre-activation gives NaN here, not 0: the net has diverged either way.)
      for (let i = 0; i < length; i++) {
        const z = pre[i];
        const on = +(z > 0);
        value[i] = on * z;
        derivative[i] = on;
      }
      return;
    case 'leakyRelu':
      for (let i = 0; i < length; i++) {
        const z = pre[i];
        value[i] = z > 0 ? z : leak * z;
        derivative[i] = z > 0 ? 1 : leak;
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < length; i++) {
        const s = sigmoid(pre[i]);
        value[i] = s;
        derivative[i] = s * (1 - s);
      }
      return;
    case 'tanh':
      for (let i = 0; i < length; i++) {
        const t = Math.tanh(pre[i]);
        value[i] = t;
        derivative[i] = 1 - t * t;
      }
      return;
    case 'swish':
      for (let i = 0; i < length; i++) {
        const z = pre[i];
        const s = sigmoid(z);
        value[i] = z * s;
        derivative[i] = s + z * s * (1 - s);
      }
      return;
    case 'gelu':
      // The exact GeLU (Hendrycks & Gimpel 2016), z·Φ(z), as in Boursier & Flammarion's experiments; not the tanh approximation.
      for (let i = 0; i < length; i++) {
        const z = pre[i];
        const cdf = 0.5 * (1 + erf(z * Math.SQRT1_2));
        value[i] = z * cdf;
        derivative[i] = cdf + z * Math.exp(-0.5 * z * z) * INV_SQRT_2PI;
      }
      return;
  }
}

/**
 * Mean loss over n samples and its gradient in the outputs (already divided by n).
 * outputs and gradient are n × width; targets are ±1 (logistic), class indices (crossEntropy) or
 * n × width real values (square, ½(f − y)² summed over outputs).
 */
export function lossAndGradient(
  kind: Loss,
  outputs: FloatArray,
  targets: FloatArray,
  n: number,
  width: number,
  gradient: FloatArray | null,
): number {
  let total = 0;
  switch (kind) {
    case 'logistic':
      for (let i = 0; i < n; i++) {
        const margin = targets[i] * outputs[i];
        total += softplus(-margin);
        if (gradient) gradient[i] = (-targets[i] * sigmoid(-margin)) / n;
      }
      break;
    case 'square':
      for (let i = 0; i < n * width; i++) {
        const r = outputs[i] - targets[i];
        total += 0.5 * r * r;
        if (gradient) gradient[i] = r / n;
      }
      break;
    case 'crossEntropy':
      for (let i = 0; i < n; i++) {
        const base = i * width;
        let max = -Infinity;
        for (let c = 0; c < width; c++) max = Math.max(max, outputs[base + c]);
        let sum = 0;
        for (let c = 0; c < width; c++) sum += Math.exp(outputs[base + c] - max);
        const label = targets[i];
        total += max + Math.log(sum) - outputs[base + label];
        if (gradient)
          for (let c = 0; c < width; c++)
            gradient[base + c] = (Math.exp(outputs[base + c] - max) / sum - (c === label ? 1 : 0)) / n;
      }
      break;
  }
  return total / n;
}
