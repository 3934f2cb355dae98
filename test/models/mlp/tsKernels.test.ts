/** The MLP family's TypeScript kernels: the fused two-layer pass against the generic path. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsBackend } from '../../../src/linalg/tsBackend.js';
import { MlpEnsemble } from '../../../src/models/mlp/index.js';
import { TsMlpKernels } from '../../../src/models/mlp/tsKernels.js';
import { expectAllClose, randomArray } from '../../helpers.js';
import { member, smallConfig, targetsFor } from '../fixtures.js';

describe('the MLP family\'s fused two-layer path in TypeScript', () => {
  it('gives the generic path\'s outputs, losses and gradients (ReLU and identity, biases, f − f₀, parametrizations, fp32, masked members)', () => {
    const device = new TsBackend();
    for (const activation of ['relu', 'linear'] as const)
      for (const [parametrization, bias, dtype] of [
        ['standard', true, 'float64'],
        ['meanField', false, 'float64'],
        ['ntk', true, 'float32'],
      ] as const)
        for (const loss of ['logistic', 'square'] as const) {
          const config = smallConfig({ inputDim: 2, hiddenWidths: [13], activation, bias, parametrization, dtype, centerOutput: true });
          const members = [member(1, { outputScale: 0.7 }), member(2, { initScale: 1.5 }), member(3)];
          const [a, b] = [new MlpEnsemble(config, members, device), new MlpEnsemble(config, members, device, new TsMlpKernels(device, false))];
          for (const model of [a, b]) for (let k = 0; k < 3; k++) model.setParameters(k, model.parameters(k).map((v, i) => v + 0.3 * Math.sin(i + 2 * k)));
          const n = 11;
          const x = { rows: n, cols: 2, data: dtype === 'float32' ? Float32Array.from(randomArray(n * 2, 31)) : randomArray(n * 2, 31) };
          const targets = targetsFor(loss, n, 1, 32);
          const active = Uint8Array.of(1, 0, 1);
          const run = (model: MlpEnsemble) => {
            const outputs = dtype === 'float32' ? new Float32Array(3 * n) : new Float64Array(3 * n);
            const losses = new Float64Array(3);
            const grads = model.allocateGradients();
            model.lossGradient(x, targets, loss, outputs, losses, grads, active);
            return { outputs, losses, grads: [0, 2].map((k) => model.gradientVector(k, grads)) };
          };
          const [r1, r2] = [run(a), run(b)];
          const tol = dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-12, atol: 1e-14 };
          const what = `${activation} ${parametrization} bias ${bias} ${dtype} ${loss}`;
          expectAllClose(r1.outputs, r2.outputs, tol, `${what}: outputs`);
          expectAllClose(r1.losses, r2.losses, tol, `${what}: losses`);
          r1.grads.forEach((g, i) => expectAllClose(g, r2.grads[i], tol, `${what}: gradient of member ${i}`));
          assert.equal(r1.losses[1], 0, 'the masked member is untouched');
        }
  });
});
