/** The MLP family's native kernels against its TypeScript ones on fresh random inputs, and whole trials on both devices. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../../src/linalg/index.js';
import { TsBackend } from '../../../src/linalg/tsBackend.js';
import type { Backend } from '../../../src/linalg/backend.js';
import { ACTIVATIONS, LOSSES } from '../../../src/linalg/elementwise.js';
import { MlpEnsemble } from '../../../src/models/mlp/index.js';
import { parseTrialSpec } from '../../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../../src/experiments/trial.js';
import { nativeSkip } from '../../nativeAvailability.js';
import { DTYPES, MLP_CASES } from '../../cases.js';
import { expectAllClose, randomArray } from '../../helpers.js';
import { member, smallConfig, targetsFor } from '../fixtures.js';

const reference = new TsBackend();
const loaded = createBackend('native');

describe('MLP kernels on the native device against ts', { skip: nativeSkip(loaded) }, () => {
  if (loaded instanceof Error) return;
  const native: Backend = loaded;
  // Every row of the shared case table, in both dtypes, with one more member masked out.
  for (const c of MLP_CASES)
    for (const dtype of DTYPES)
      it(`${c.name} (${dtype}): outputs, losses and gradients of the ts kernels`, () => {
        const tol = dtype === 'float32' ? { rtol: 2e-4, atol: 1e-5 } : { rtol: 1e-10, atol: 1e-12 };
        const config = { ...c.config, dtype };
        const members = [...c.members, member(99, { initScale: 0.8 })];
        const K = members.length;
        const [a, b] = [new MlpEnsemble(config, members, reference), new MlpEnsemble(config, members, native)];
        for (const model of [a, b]) for (let k = 0; k < K; k++) model.setParameters(k, model.parameters(k).map((v, i) => v + (c.perturb || 0.1) * Math.cos(i + k)));
        const n = 9;
        const d = config.inputDim;
        const x = { rows: n, cols: d, data: dtype === 'float32' ? Float32Array.from(randomArray(n * d, 11)) : randomArray(n * d, 11) };
        const targets = targetsFor(c.loss, n, config.outputDim, 12);
        const active = Uint8Array.from({ length: K }, (_, k) => (k === K - 1 ? 0 : 1));
        const run = (model: MlpEnsemble) => {
          const outputs = dtype === 'float32' ? new Float32Array(K * n * config.outputDim) : new Float64Array(K * n * config.outputDim);
          const losses = new Float64Array(K);
          const grads = model.allocateGradients();
          model.lossGradient(x, targets, c.loss, outputs, losses, grads, active);
          return { outputs, losses, grads: c.members.map((_, k) => model.gradientVector(k, grads)) };
        };
        const [r1, r2] = [run(a), run(b)];
        expectAllClose(r2.outputs, r1.outputs, tol, 'outputs');
        expectAllClose(r2.losses, r1.losses, tol, 'losses');
        r1.grads.forEach((g, k) => expectAllClose(r2.grads[k], g, tol, `gradient of member ${k}`));
        assert.equal(r2.losses[K - 1], 0, 'the masked member is untouched');
      });

  for (const dtype of ['float64', 'float32'] as const)
    for (const activation of ACTIVATIONS)
      it(`fused step ${dtype} ${activation}: outputs, losses and gradients of an ensemble with one member masked`, () => {
        const tol = dtype === 'float32' ? { rtol: 2e-4, atol: 1e-5 } : { rtol: 1e-10, atol: 1e-12 };
        for (const loss of LOSSES) {
          const outputDim = loss === 'crossEntropy' ? 4 : loss === 'square' ? 2 : 1;
          const config = smallConfig({ hiddenWidths: [7, 5], activation, bias: true, outputDim, dtype, centerOutput: true });
          const members = [member(1, { outputScale: 0.7 }), member(2, { initScale: 1.5 }), member(3, { outputScale: 2 })];
          const [a, b] = [new MlpEnsemble(config, members, reference), new MlpEnsemble(config, members, native)];
          // Move the parameters off their init so f − f₀ is not zero.
          for (const model of [a, b]) for (let k = 0; k < 3; k++) model.setParameters(k, model.parameters(k).map((v, i) => v + 0.2 * Math.cos(i + k)));
          const n = 9;
          const x = { rows: n, cols: 3, data: dtype === 'float32' ? Float32Array.from(randomArray(n * 3, 11)) : randomArray(n * 3, 11) };
          const targets = targetsFor(loss, n, outputDim, 12);
          const active = Uint8Array.of(1, 0, 1);
          const run = (model: MlpEnsemble) => {
            const outputs = dtype === 'float32' ? new Float32Array(3 * n * outputDim) : new Float64Array(3 * n * outputDim);
            const losses = new Float64Array(3);
            const grads = model.allocateGradients();
            model.lossGradient(x, targets, loss, outputs, losses, grads, active);
            return { outputs, losses, grads: [0, 2].map((k) => model.gradientVector(k, grads)) };
          };
          const [r1, r2] = [run(a), run(b)];
          expectAllClose(r2.outputs, r1.outputs, tol, `${loss} outputs`);
          expectAllClose(r2.losses, r1.losses, tol, `${loss} losses`);
          r1.grads.forEach((g, i) => expectAllClose(r2.grads[i], g, tol, `${loss} gradient of member ${i}`));
          assert.equal(r2.losses[1], 0, 'the masked member is untouched');
        }
      });

it('the NTK Gram of a two-layer net (without forming J) equals the ts backend\'s', () => {
  for (const [config, dtype] of [
    [smallConfig({ hiddenWidths: [11], activation: 'relu', bias: true }), 'float64'],
    [smallConfig({ hiddenWidths: [11], activation: 'gelu', outputDim: 3, parametrization: 'meanField' }), 'float64'],
    [smallConfig({ hiddenWidths: [11], activation: 'tanh', outputDim: 2, bias: true, frozenLayers: [0] }), 'float64'],
    [smallConfig({ hiddenWidths: [11], activation: 'swish', outputDim: 2, parametrization: 'ntk', frozenLayers: [1] }), 'float64'],
    [smallConfig({ hiddenWidths: [11], activation: 'relu', dtype: 'float32' }), 'float32'],
  ] as const) {
    const members = [member(1, { outputScale: 0.7 }), member(2, { initScale: 1.5 })];
    const [a, b] = [new MlpEnsemble(config, members, reference), new MlpEnsemble(config, members, native)];
    const n = 8;
    const x = { rows: n, cols: 3, data: dtype === 'float32' ? Float32Array.from(randomArray(n * 3, 21)) : randomArray(n * 3, 21) };
    const tol = dtype === 'float32' ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-12, atol: 1e-14 };
    expectAllClose(b.ntkGram(1, x), a.ntkGram(1, x), tol, `${config.activation} ${config.outputDim} outputs ${dtype}`);
  }
});

it('whole trials give the same numbers on both backends (GD, SGD, gradient flow)', () => {
  for (const training of [
    { optimizer: 'gd' as const, stop: { maxSteps: 300 } },
    { optimizer: 'sgd' as const, batchSize: 16, stop: { maxSteps: 200 } },
    { optimizer: 'gradientFlow' as const, stop: { maxSteps: 5000, maxTime: 20 } },
  ]) {
    const spec = parseTrialSpec({ data: { task: 'teacher', inputDim: 4, teacherWidth: 2, n: 64, nTest: 100 }, model: { hiddenWidths: [40], bias: true }, training, metrics: [{ name: 'layers', at: 'final' }] });
    const [t, nat] = [runEnsembleTrial(spec, [{}], { backend: reference }), runEnsembleTrial(spec, [{}], { backend: native })];
    const [ft, fn] = [t.results[0].final, nat.results[0].final];
    assert.equal(nat.results[0].steps, t.results[0].steps);
    // Stated tolerance: 1e-8 relative on the final losses after hundreds of steps in fp64.
    for (const key of ['trainLoss', 'testLoss'] as const) assert.ok(Math.abs((fn[key] as number) - (ft[key] as number)) <= 1e-8 * Math.abs(ft[key] as number), `${training.optimizer} ${key}: ${fn[key]} vs ${ft[key]}`);
    assert.ok(Math.abs((fn.metrics.distanceFromInit as number) - (ft.metrics.distanceFromInit as number)) < 1e-8);
  }
});
});
