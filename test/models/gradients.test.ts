import { describe, it } from 'node:test';
import { expectAllClose } from '../helpers.js';
import { MODEL_CASES, type ModelCase } from '../cases.js';
import { backend, inputs, lossOf, targetsFor } from './fixtures.js';

/** Analytic gradient of member k against central finite differences of the loss, in fp64. */
function checkGradient(c: ModelCase): void {
  const { members, loss, checkedMember: k, perturb } = c;
  const model = c.build(backend, 'float64');
  if (perturb > 0) model.setParameters(k, model.parameters(k).map((v, i) => v + perturb * Math.sin(7 * i + 1)));
  const n = 6;
  const x = inputs(n, c.inputDim, 17);
  const targets = targetsFor(loss, n, c.outputDim, 23);
  const outputs = new Float64Array(members.length * n * c.outputDim);
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
  for (const c of MODEL_CASES) it(c.name, () => checkGradient(c));
});
