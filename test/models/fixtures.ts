/** Small models and data for the model tests. */
import type { Loss } from '../../src/linalg/elementwise.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { MlpEnsemble, type MlpConfig } from '../../src/models/mlp/index.js';
import type { MemberConfig, Model } from '../../src/models/model.js';
import assert from 'node:assert/strict';
import { randomArray } from '../helpers.js';

export const backend = new TsBackend();

export function smallConfig(overrides: Partial<MlpConfig> = {}): MlpConfig {
  return {
    inputDim: 3,
    hiddenWidths: [5],
    outputDim: 1,
    activation: 'tanh',
    leak: 0.1,
    parametrization: 'standard',
    bias: false,
    init: 'gaussian',
    centerOutput: false,
    frozenLayers: [],
    dtype: 'float64',
    ...overrides,
  };
}

export function member(seed: number, overrides: Partial<MemberConfig> = {}): MemberConfig {
  return { seed, initScale: 1, outputScale: 1, ...overrides };
}

export function inputs(n: number, d: number, seed: number): Matrix {
  return { rows: n, cols: d, data: randomArray(n * d, seed) };
}

/** Targets fitting the loss: ±1, class indices, or n × width reals. */
export function targetsFor(loss: Loss, n: number, width: number, seed: number): Float64Array {
  const r = randomArray(n * width, seed);
  if (loss === 'logistic') return Float64Array.from({ length: n }, (_, i) => (r[i] > 0 ? 1 : -1));
  if (loss === 'crossEntropy') return Float64Array.from({ length: n }, (_, i) => Math.floor(Math.abs(r[i] * 1000)) % width);
  return r;
}

/** Mean loss of member k at its current parameters. */
export function lossOf(model: Model, x: Matrix, targets: Float64Array, loss: Loss, k = 0): number {
  const outputs = new Float64Array(model.ensembleSize * x.rows * model.outputDim);
  const losses = new Float64Array(model.ensembleSize);
  const mask = new Uint8Array(model.ensembleSize);
  mask[k] = 1;
  model.lossGradient(x, targets, loss, outputs, losses, model.allocateGradients(), mask);
  return losses[k];
}

export function newModel(config: MlpConfig, members: MemberConfig[]): MlpEnsemble {
  return new MlpEnsemble(config, members, backend);
}

/** A built model seen as the MLP it is (tests that set or read an MLP's own arrays). */
export function asMlp(model: Model): MlpEnsemble {
  assert.ok(model instanceof MlpEnsemble, `expected an MLP, got a ${model.family} model`);
  return model;
}
