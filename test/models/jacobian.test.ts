import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectAllClose, naiveMatmul } from '../helpers.js';
import { inputs, member, newModel, smallConfig } from './fixtures.js';
import type { MlpConfig } from '../../src/models/mlp/index.js';

function outputsOf(model: ReturnType<typeof newModel>, x: ReturnType<typeof inputs>): Float64Array {
  return Float64Array.from(model.forward(x));
}

function checkJacobian(config: MlpConfig): void {
  const model = newModel(config, [member(3, { outputScale: 0.6 })]);
  const x = inputs(4, config.inputDim, 5);
  const jac = model.jacobian(0, x);
  assert.equal(jac.rows, 4 * config.outputDim);
  assert.equal(jac.cols, model.parameterCount);
  const theta = model.parameters(0);
  const numeric = new Float64Array(jac.rows * jac.cols);
  for (let p = 0; p < theta.length; p++) {
    const h = 1e-6;
    const saved = theta[p];
    theta[p] = saved + h;
    model.setParameters(0, theta);
    const up = outputsOf(model, x);
    theta[p] = saved - h;
    model.setParameters(0, theta);
    const down = outputsOf(model, x);
    theta[p] = saved;
    model.setParameters(0, theta);
    for (let r = 0; r < jac.rows; r++) numeric[r * jac.cols + p] = (up[r] - down[r]) / (2 * h);
  }
  expectAllClose(jac.data, numeric, { rtol: 1e-5, atol: 1e-8 }, 'jacobian');
}

describe('jacobian', () => {
  it('matches finite differences: two-layer tanh with bias', () => checkJacobian(smallConfig({ bias: true })));
  it('matches finite differences: deep swish, 3 outputs, NTK parametrization', () => checkJacobian(smallConfig({ hiddenWidths: [4, 3], outputDim: 3, activation: 'swish', parametrization: 'ntk', bias: true })));
  it('matches finite differences with a frozen layer', () => checkJacobian(smallConfig({ hiddenWidths: [4, 3], frozenLayers: [1], activation: 'sigmoid' })));

  it('J Jᵀ equals the two-layer NTK computed from features and activation derivatives', () => {
    const alpha = 0.8;
    for (const parametrization of ['standard', 'meanField'] as const) {
      const config = smallConfig({ hiddenWidths: [7], activation: 'relu', bias: true, parametrization });
      const model = newModel(config, [member(9, { outputScale: alpha })]);
      const n = 6;
      const x = inputs(n, 3, 10);
      const jac = model.jacobian(0, x);
      const ntk = naiveMatmul(false, true, n, n, jac.cols, jac.data, jac.data);
      // K(x, x') = (α m₂)² [ Σ_j h_j h'_j + m₁² Σ_j a_j² σ'_j σ'_j (x·x' + 1) ] in stored weights a.
      const h = model.features(0, x).data;
      const derivative = model.trace(0, x).derivative[0];
      const [m1, m2] = model.scalings.map((s) => s.multiplier);
      const a = model.batch.weights[1];
      const expected = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < n; k++) {
          let xx = 1;
          for (let c = 0; c < 3; c++) xx += x.data[i * 3 + c] * x.data[k * 3 + c];
          let s = 0;
          for (let j = 0; j < 7; j++) s += h[i * 7 + j] * h[k * 7 + j] + m1 * m1 * a[j] * a[j] * derivative[i * 7 + j] * derivative[k * 7 + j] * xx;
          expected[i * n + k] = (alpha * m2) ** 2 * s;
        }
      expectAllClose(ntk, expected, { rtol: 1e-12, atol: 1e-14 }, `NTK (${parametrization})`);
    }
  });

  it('ntkGram (without forming J for two-layer nets) equals J Jᵀ: outputs, biases, parametrizations, frozen layers, deep nets', () => {
    const configs: MlpConfig[] = [
      smallConfig({ hiddenWidths: [9], activation: 'relu', bias: true }),
      smallConfig({ hiddenWidths: [9], activation: 'gelu', outputDim: 3, parametrization: 'meanField' }),
      smallConfig({ hiddenWidths: [9], activation: 'tanh', outputDim: 2, bias: true, parametrization: 'ntk', frozenLayers: [0] }),
      smallConfig({ hiddenWidths: [9], activation: 'swish', outputDim: 2, parametrization: 'muP', frozenLayers: [1] }),
      smallConfig({ hiddenWidths: [5, 4], activation: 'tanh', outputDim: 2, bias: true }),
    ];
    for (const config of configs) {
      const model = newModel(config, [member(5, { outputScale: 0.7 })]);
      const x = inputs(6, config.inputDim, 8);
      const jac = model.jacobian(0, x);
      const expected = naiveMatmul(false, true, jac.rows, jac.rows, jac.cols, jac.data, jac.data);
      expectAllClose(model.ntkGram(0, x), expected, { rtol: 1e-12, atol: 1e-14 }, `${config.activation}, ${config.outputDim} outputs, ${config.parametrization}, frozen [${config.frozenLayers.join()}]`);
    }
  });

  it('features are the last hidden activations and forward is their linear readout', () => {
    const model = newModel(smallConfig({ hiddenWidths: [4, 6], activation: 'tanh' }), [member(2, { outputScale: 2 })]);
    const x = inputs(5, 3, 4);
    const features = model.features(0, x);
    assert.deepEqual([features.rows, features.cols], [5, 6]);
    const readout = model.effectiveWeights(0, 2);
    const f = naiveMatmul(false, true, 5, 1, 6, features.data, readout.data).map((v) => v * 2);
    expectAllClose(model.forward(x), f, { rtol: 1e-12, atol: 1e-15 });
  });
});

describe('initialization', () => {
  it('effective weights have variance (initScale · std · multiplier)² in every parametrization', () => {
    for (const parametrization of ['standard', 'ntk', 'meanField', 'muP'] as const) {
      const model = newModel(smallConfig({ inputDim: 50, hiddenWidths: [400], parametrization }), [member(1, { initScale: [0.5, 2] })]);
      model.scalings.forEach((scaling, l) => {
        const w = model.effectiveWeights(0, l).data;
        const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
        const expected = ([0.5, 2][l] * scaling.initStd * scaling.multiplier) ** 2;
        assert.ok(Math.abs(variance / expected - 1) < (l === 0 ? 0.03 : 0.2), `${parametrization} layer ${l}: ${variance} vs ${expected}`);
      });
    }
  });

  it('balanced init gives |a_j| = ‖(w_j, b_j)‖ in effective weights, with both signs', () => {
    const model = newModel(smallConfig({ hiddenWidths: [40], init: 'balanced', bias: true, parametrization: 'ntk' }), [member(4, { initScale: 1e-3 })]);
    const w = model.effectiveWeights(0, 0).data;
    const b = model.effectiveBiases(0, 0) as Float64Array;
    const a = model.effectiveWeights(0, 1).data;
    let positives = 0;
    for (let j = 0; j < 40; j++) {
      const norm = Math.hypot(w[3 * j], w[3 * j + 1], w[3 * j + 2], b[j]);
      assert.ok(Math.abs(Math.abs(a[j]) - norm) < 1e-15 + 1e-12 * norm);
      if (a[j] > 0) positives++;
    }
    assert.ok(positives > 5 && positives < 35);
  });

  it('fixed signs: a_j = ±initScale and the output layer is frozen', () => {
    const model = newModel(smallConfig({ hiddenWidths: [30], init: 'fixedSigns' }), [member(5, { initScale: 0.5 })]);
    for (const v of Array.from(model.effectiveWeights(0, 1).data)) assert.equal(Math.abs(v), 0.5);
    assert.deepEqual(model.frozen, [false, true]);
    assert.equal(model.parameterCount, 30 * 3);
  });

  it('rejects an invalid model with the field named', () => {
    assert.throws(() => newModel(smallConfig({ hiddenWidths: [0] }), [member(1)]), /model\.hiddenWidths\[0\]/);
    assert.throws(() => newModel(smallConfig(), [member(1, { outputScale: 0 })]), /model\.outputScale/);
    assert.throws(() => newModel(smallConfig({ hiddenWidths: [3, 3], init: 'balanced' }), [member(1)]), /model\.init/);
    assert.throws(() => newModel(smallConfig(), [member(1, { initScale: [1, 2, 3] })]), /model\.initScale/);
  });
});
