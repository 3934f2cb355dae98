/** Every native op against the ts reference on fresh random inputs, and whole trials on both backends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../src/linalg/index.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import type { Backend } from '../../src/linalg/backend.js';
import { ACTIVATIONS, LOSSES } from '../../src/linalg/elementwise.js';
import { MlpEnsemble } from '../../src/models/mlp.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';
import { nativeSkip } from '../nativeAvailability.js';
import { expectAllClose, randomArray } from '../helpers.js';
import { member, smallConfig, targetsFor } from '../models/fixtures.js';

const reference = new TsBackend();
const loaded = createBackend('native');
// CI installs OpenBLAS and builds the addon; there it must load. Elsewhere its absence is reported, not fatal.
const mustLoad = process.env.CI === 'true' || process.env.FEATLAB_BACKEND === 'native';

describe('native backend availability', () => {
  it(mustLoad ? 'loads (CI builds it)' : 'loads, or reports why it cannot', () => {
    if (loaded instanceof Error) {
      assert.equal(mustLoad, false, `native addon failed to load: ${loaded.message}`);
      assert.ok(loaded.message.length > 0);
    } else {
      assert.equal(loaded.name, 'native');
      assert.match(loaded.describe?.().blas ?? '', /OpenBLAS/);
    }
  });
});

describe('native backend against ts', { skip: nativeSkip(loaded) }, () => {
  if (loaded instanceof Error) return;
  const native: Backend = loaded;
  for (const dtype of ['float64', 'float32'] as const) {
    const cast = (a: Float64Array) => (dtype === 'float32' ? Float32Array.from(a) : a);
    const tol = dtype === 'float32' ? { rtol: 1e-4, atol: 1e-4 } : { rtol: 1e-11, atol: 1e-11 };
    for (const transA of [false, true])
      for (const transB of [false, true])
        for (const [m, n, k] of [
          [1, 1, 1],
          [7, 3, 5],
          [33, 17, 65],
          [2, 130, 9],
        ])
          it(`gemm ${dtype} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}×${n}×${k}`, () => {
            const a = cast(randomArray(m * k, m + 3 * k));
            const b = cast(randomArray(k * n, n + 5 * k));
            const c0 = cast(randomArray(m * n, m * n));
            const [c1, c2] = [c0.slice(), c0.slice()];
            reference.gemm(transA, transB, m, n, k, 1.3, a, b, 0.4, c1);
            native.gemm(transA, transB, m, n, k, 1.3, a, b, 0.4, c2);
            expectAllClose(c2, c1, tol);
          });
    it(`gram ${dtype}`, () => {
      const a = cast(randomArray(9 * 13, 4));
      const [g1, g2] = [cast(new Float64Array(81)), cast(new Float64Array(81))];
      reference.gram(a, 9, 13, g1);
      native.gram(a, 9, 13, g2);
      expectAllClose(g2, g1, tol);
    });
  }

  it('symmetricEigen, singularValues, cholesky and ridgeSolve (primal and dual)', () => {
    const n = 11;
    const b = randomArray(n * n, 7);
    const s = Float64Array.from({ length: n * n }, (_, i) => b[i] + b[(i % n) * n + Math.floor(i / n)]);
    const e1 = reference.symmetricEigen(s, n);
    const e2 = native.symmetricEigen(s, n);
    expectAllClose(e2.values, e1.values, { rtol: 1e-10, atol: 1e-12 });
    expectAllClose(native.symmetricEigenvalues(s, n), e1.values, { rtol: 1e-10, atol: 1e-12 });
    // Eigenvectors agree up to sign.
    for (let j = 0; j < n; j++) {
      const sign = Math.sign(e1.vectors[j]) * Math.sign(e2.vectors[j]) || 1;
      expectAllClose(Array.from({ length: n }, (_, r) => sign * e2.vectors[r * n + j]), Array.from({ length: n }, (_, r) => e1.vectors[r * n + j]), { atol: 1e-9 });
    }
    for (const [rows, cols] of [
      [8, 5],
      [5, 12],
      [1, 4],
    ]) {
      const a = randomArray(rows * cols, rows * cols);
      expectAllClose(native.singularValues(a, rows, cols), reference.singularValues(a, rows, cols), { rtol: 1e-10, atol: 1e-12 });
    }
    const spd = Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? n : 0) + 0.1 * s[i]);
    expectAllClose(native.cholesky(spd, n), reference.cholesky(spd, n), { rtol: 1e-10, atol: 1e-12 });
    assert.throws(() => native.cholesky(Float64Array.of(1, 2, 2, 1), 2), /positive definite/);
    for (const [rows, p] of [
      [20, 6],
      [6, 20],
    ]) {
      const x = randomArray(rows * p, 9);
      const y = randomArray(rows * 3, 10);
      expectAllClose(native.ridgeSolve(x, rows, p, y, 3, 0.2), reference.ridgeSolve(x, rows, p, y, 3, 0.2), { rtol: 1e-9, atol: 1e-10 });
    }
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
