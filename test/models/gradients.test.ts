import { describe, it } from 'node:test';
import { ACTIVATIONS, type Loss } from '../../src/linalg/elementwise.js';
import { PARAMETRIZATIONS } from '../../src/models/parametrization.js';
import type { MlpConfig, MemberConfig } from '../../src/models/mlp.js';
import { expectAllClose } from '../helpers.js';
import { inputs, lossOf, member, newModel, smallConfig, targetsFor } from './fixtures.js';

/** Analytic gradient of member k against central finite differences of the loss, in fp64. */
function checkGradient(config: MlpConfig, members: MemberConfig[], loss: Loss, k = 0, perturb = 0): void {
  const model = newModel(config, members);
  if (perturb > 0) model.setParameters(k, model.parameters(k).map((v, i) => v + perturb * Math.sin(7 * i + 1)));
  const n = 6;
  const x = inputs(n, config.inputDim, 17);
  const targets = targetsFor(loss, n, config.outputDim, 23);
  const outputs = new Float64Array(members.length * n * config.outputDim);
  const losses = new Float64Array(members.length);
  const gradients = model.allocateGradients();
  model.lossGradient(x, targets, loss, outputs, losses, gradients);
  const analytic = model.gradientVector(k, gradients);
  const theta = model.parameters(k);
  const numeric = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(theta[i]));
    const saved = theta[i];
    theta[i] = saved + h;
    model.setParameters(k, theta);
    const up = lossOf(model, x, targets, loss, k);
    theta[i] = saved - h;
    model.setParameters(k, theta);
    const down = lossOf(model, x, targets, loss, k);
    theta[i] = saved;
    model.setParameters(k, theta);
    numeric[i] = (up - down) / (2 * h);
  }
  expectAllClose(analytic, numeric, { rtol: 1e-5, atol: 1e-8 }, 'gradient');
}

describe('gradients against central finite differences', () => {
  for (const hiddenWidths of [[5], [4, 3, 5]])
    for (const activation of ACTIVATIONS)
      for (const parametrization of PARAMETRIZATIONS)
        for (const bias of [false, true])
          it(`${hiddenWidths.length + 1}-layer ${activation} ${parametrization}${bias ? ' with bias' : ''}`, () => {
            checkGradient(smallConfig({ hiddenWidths, activation, parametrization, bias, outputDim: 2 }), [member(1, { initScale: 1.3, outputScale: 0.7 })], 'square');
          });

  it('logistic loss', () => checkGradient(smallConfig({ activation: 'swish', bias: true }), [member(2)], 'logistic'));
  it('cross-entropy loss with 4 classes', () => checkGradient(smallConfig({ hiddenWidths: [6, 4], outputDim: 4, activation: 'relu' }), [member(3)], 'crossEntropy'));
  it('f − f₀ after the parameters moved', () => {
    const config = smallConfig({ centerOutput: true, activation: 'sigmoid', bias: true });
    checkGradient(config, [member(4, { outputScale: 0.25 })], 'square', 0, 0.3);
  });
  it('balanced init', () => checkGradient(smallConfig({ init: 'balanced', activation: 'relu', bias: true }), [member(5, { initScale: 0.5 })], 'logistic'));
  it('fixed-sign output weights (frozen) and a frozen first layer of a deep net', () => {
    checkGradient(smallConfig({ init: 'fixedSigns', activation: 'leakyRelu' }), [member(6)], 'square');
    checkGradient(smallConfig({ hiddenWidths: [4, 4], frozenLayers: [0], activation: 'tanh' }), [member(7)], 'square');
  });
  it('per-layer init scales, member 2 of an ensemble of 3', () => {
    const members = [member(8), member(9, { initScale: [0.5, 2, 1], outputScale: 3 }), member(10, { initScale: [2, 0.5, 1], outputScale: 0.2 })];
    checkGradient(smallConfig({ hiddenWidths: [5, 4], activation: 'swish', parametrization: 'muP', bias: true }), members, 'square', 2);
  });
});
