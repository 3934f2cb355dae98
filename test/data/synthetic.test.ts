import { targetKindOf } from '../../src/data/targets.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { buildData, buildModel } from '../../src/experiments/trial.js';
import { dot, row } from '../../src/linalg/matrix.js';
import { expectAllClose, naiveMatmul } from '../helpers.js';
import { asMlp } from '../models/fixtures.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { runTrial } from '../../src/experiments/trialKinds.js';

describe('synthetic data', () => {
  it('is the same for the same seed, and independent of the model and of the test size', () => {
    const base = { data: { task: 'teacher' as const, inputDim: 4, teacherWidth: 2, n: 50, nTest: 20 }, seed: 3 };
    const small = buildData(parseTrialSpec({ ...base, model: { hiddenWidths: [10] } }));
    const deep = parseTrialSpec({ ...base, model: { hiddenWidths: [10, 10, 10] } });
    assert.deepEqual(buildData(deep).train, small.train);
    const moreTest = buildData(parseTrialSpec({ ...base, data: { ...base.data, nTest: 500 } }));
    assert.deepEqual(moreTest.train, small.train);
    assert.notDeepEqual(buildData(parseTrialSpec({ ...base, seed: 4 })).train.inputs, small.train.inputs);
  });

  it('adding a layer does not change the first layer initialization', () => {
    const spec = (hiddenWidths: number[]) => parseTrialSpec({ model: { hiddenWidths }, data: { inputDim: 3 }, seed: 9 });
    const a = asMlp(buildModel(spec([8]), buildData(spec([8]))));
    const b = asMlp(buildModel(spec([8, 5]), buildData(spec([8, 5]))));
    assert.deepEqual(a.batch.weights[0], b.batch.weights[0]);
  });

  it('teacher labels are the sign of Σ ±relu(w_k·x) with unit orthogonal directions', () => {
    const split = generateSynthetic({ task: 'teacher', inputDim: 5, teacherWidth: 3, n: 100 }, 1);
    const w = split.directions;
    assert.ok(w);
    expectAllClose(naiveMatmul(false, true, 3, 3, 5, w.data, w.data), [1, 0, 0, 0, 1, 0, 0, 0, 1], { atol: 1e-12 });
    for (let i = 0; i < 100; i++) {
      const x = row(split.train.inputs, i);
      const f: number = Math.max(0, dot(x, row(w, 0))) - Math.max(0, dot(x, row(w, 1))) + Math.max(0, dot(x, row(w, 2)));
      assert.equal(split.train.targets[i], f > 0 ? 1 : -1);
    }
  });

  it('given teacher directions are normalized and used', () => {
    const split = generateSynthetic({ task: 'linearTeacher', inputDim: 2, teacherDirections: [[3, 4]], labels: 'value', n: 10 }, 2);
    expectAllClose(split.directions?.data ?? [], [0.6, 0.8], { rtol: 1e-15 });
    for (let i = 0; i < 10; i++) assert.ok(Math.abs(split.train.targets[i] - dot(row(split.train.inputs, i), [0.6, 0.8])) < 1e-15);
  });

  it('flips exactly the requested fraction of labels and marks them', () => {
    const clean = generateSynthetic({ task: 'separable', inputDim: 3, n: 200 }, 5);
    const noisy = generateSynthetic({ task: 'separable', inputDim: 3, n: 200, labelNoise: { flip: 0.15, additive: 0, onTest: false } }, 5);
    assert.ok(noisy.noisyTrain);
    let flipped = 0;
    for (let i = 0; i < 200; i++) {
      const changed = noisy.train.targets[i] !== clean.train.targets[i];
      assert.equal(changed, noisy.noisyTrain[i] === 1);
      if (changed) flipped++;
    }
    assert.equal(flipped, 30);
    assert.deepEqual(noisy.test.targets, clean.test.targets);
  });

  it('separable data keeps the margin from the true hyperplane', () => {
    const split = generateSynthetic({ task: 'separable', inputDim: 4, n: 300, margin: 0.4 }, 6);
    const w = split.directions?.data ?? new Float64Array(4);
    for (let i = 0; i < 300; i++) assert.ok(split.train.targets[i] * dot(row(split.train.inputs, i), w) >= 0.2 - 1e-12);
  });

  it('xor labels are the product of the cluster signs, parity the product of the first k coordinates', () => {
    const xor = generateSynthetic({ task: 'xor', inputDim: 2, n: 200, spread: 0.1 }, 7);
    for (let i = 0; i < 200; i++) {
      const [a, b] = row(xor.train.inputs, i);
      assert.equal(xor.train.targets[i], Math.sign(a) * Math.sign(b));
    }
    const parity = generateSynthetic({ task: 'parity', inputDim: 6, teacherWidth: 3, n: 64 }, 8);
    for (let i = 0; i < 64; i++) {
      const x = row(parity.train.inputs, i);
      assert.ok([...x].every((v) => v === 1 || v === -1));
      assert.equal(parity.train.targets[i], x[0] * x[1] * x[2]);
    }
  });

  it('1D data lies on one line and y = slope · a', () => {
    const split = generateSynthetic({ task: 'line1d', inputDim: 5, n: 30, slope: -2, labels: 'value' }, 9);
    const e = split.directions?.data ?? new Float64Array(5);
    for (let i = 0; i < 30; i++) {
      const x = row(split.train.inputs, i);
      const a = dot(x, e);
      expectAllClose(x, Float64Array.from(e, (v) => a * v), { atol: 1e-14 });
      assert.ok(Math.abs(split.train.targets[i] + 2 * a) < 1e-12);
    }
  });

  it('the addition/multiplication task: y = z₁ + z₂ + w·z₁z₃ read off the signal vectors', () => {
    const split = generateSynthetic({ task: 'additionMultiplication', inputDim: 8, n: 100, labels: 'value', multiplicationWeight: 0.5 }, 10);
    const v = split.directions;
    assert.ok(v);
    for (let i = 0; i < 100; i++) {
      const x = row(split.train.inputs, i);
      const z = [0, 1, 2].map((s) => dot(x, row(v, s)));
      z.forEach((zi) => assert.ok(Math.abs(Math.abs(zi) - 1) < 1e-12));
      assert.ok(Math.abs(split.train.targets[i] - (z[0] + z[1] + 0.5 * z[0] * z[2])) < 1e-12);
    }
  });

  it('orthogonal and correlated inputs', () => {
    const ortho = generateSynthetic({ task: 'teacher', inputs: 'orthogonal', inputDim: 10, n: 6, nTest: 4 }, 11);
    const x = ortho.train.inputs;
    expectAllClose(naiveMatmul(false, true, 6, 6, 10, x.data, x.data), Float64Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0)), { atol: 1e-12 });
    assert.throws(() => generateSynthetic({ task: 'teacher', inputs: 'orthogonal', inputDim: 3, n: 6 }, 1), /orthogonal/);
    const corr = generateSynthetic({ task: 'teacher', inputs: 'correlated', correlation: 0.3, inputDim: 400, n: 2, nTest: 0 }, 12);
    const [a, b] = [row(corr.train.inputs, 0), row(corr.train.inputs, 1)];
    const cosine = dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    assert.ok(Math.abs(cosine - 0.3) < 0.15, `cosine ${cosine}`);
  });
});

describe('errors of ±1 real targets', () => {
  it('are classified by sign, while interpolation of real targets keeps its tolerance', async () => {
    const { classificationError, misfitFraction } = await import('../../src/data/dataset.js');
    const data = { inputs: { rows: 3, cols: 1, data: new Float64Array(3) }, targets: Float64Array.of(1, -1, 1), targetDim: 1, kind: 'regression' as const, classes: 2 };
    const outputs = Float64Array.of(0.2, -3, -0.1);
    assert.equal(classificationError(data, outputs, 1), 1 / 3);
    assert.equal(misfitFraction(data, outputs, 1, 1e-3), 1);
    const real = { ...data, targets: Float64Array.of(0.5, -1, 1) };
    assert.equal(classificationError(real, outputs, 1), null);
  });
});

describe('the clusters task', () => {
  it('draws unit vectors near K centers, cluster k carrying class k mod C, every cluster present', () => {
    const split = generateSynthetic({ task: 'clusters', inputDim: 20, spread: 0.1, n: 300, nTest: 10, clusters: { count: 6, classes: 3 } }, 4);
    const centers = split.directions as NonNullable<typeof split.directions>;
    assert.equal(centers.rows, 6);
    assert.equal(split.train.kind, 'classes');
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const x = split.train.inputs.data.subarray(i * 20, (i + 1) * 20);
      assert.ok(Math.abs(Math.hypot(...x) - 1) < 1e-12, 'unit norm');
      const cosines = Array.from({ length: 6 }, (_, k) => Array.from(x).reduce((s, v, j) => s + v * centers.data[k * 20 + j], 0));
      const k = cosines.indexOf(Math.max(...cosines));
      // Noise of norm ≈ 0.1 around a unit center: within about 0.1 radians, far from any other center.
      assert.ok(cosines[k] > 0.98, `cos to its center ${cosines[k]}`);
      assert.equal(split.train.targets[i], k % 3);
      seen.add(k);
    }
    assert.equal(seen.size, 6);
    const value = generateSynthetic({ task: 'clusters', inputDim: 20, n: 30, nTest: 0, labels: 'value', clusters: { count: 6, classes: 3 } }, 4);
    assert.deepEqual([value.train.kind, value.train.targetDim], ['regression', 3]);
    assert.throws(() => generateSynthetic({ task: 'clusters', n: 10, nTest: 0, clusters: { count: 2, classes: 3 } }, 1), /data\.clusters\.classes/);
  });
});

describe('the images task', () => {
  it('draws channel-first images in (−1, 1) of the given shape, every class, the same for the same seed', () => {
    const images = { side: 6, channels: 2, latentDim: 3, classes: 4 };
    const a = generateSynthetic({ task: 'images', n: 200, nTest: 50, images }, 3);
    assert.deepEqual(a.imageShape, [2, 6, 6]);
    assert.equal(a.train.inputs.cols, 72);
    assert.equal(a.train.kind, 'classes');
    assert.ok(a.train.inputs.data.every((v) => v > -1 && v < 1));
    assert.deepEqual(new Set(a.train.targets), new Set([0, 1, 2, 3]));
    const b = generateSynthetic({ task: 'images', n: 200, nTest: 7, images }, 3);
    assert.deepEqual(b.train.inputs.data, a.train.inputs.data, 'the test size does not change the training set');
    const binary = generateSynthetic({ task: 'images', n: 50, nTest: 0, images: { ...images, classes: 2 } }, 3);
    assert.deepEqual(new Set(binary.train.targets), new Set([-1, 1]), 'two classes are ±1 labels');
  });

  it('labels "value" reads the classes as one-hot rows for the square loss, the same classes, and flips them as classes', () => {
    const images = { side: 6, latentDim: 3, classes: 4 };
    const classes = generateSynthetic({ task: 'images', n: 100, nTest: 10, images }, 5);
    const value = generateSynthetic({ task: 'images', n: 100, nTest: 10, images, labels: 'value' }, 5);
    assert.equal(value.train.kind, 'regression');
    assert.equal(value.train.targetDim, 4);
    for (let i = 0; i < 100; i++) {
      const row = Array.from(value.train.targets.subarray(i * 4, i * 4 + 4));
      assert.deepEqual(row, [0, 1, 2, 3].map((c) => (c === classes.train.targets[i] ? 1 : 0)), `row ${i}`);
    }
    assert.equal(targetKindOf({ task: 'images', labels: 'value', images }), 'regression');
    const noisy = generateSynthetic({ task: 'images', n: 100, nTest: 0, images, labels: 'value', labelNoise: { flip: 0.3, additive: 0, onTest: false } }, 5);
    const flipped = noisy.noisyTrain?.reduce((a, b) => a + b, 0);
    assert.equal(flipped, 30);
    for (let i = 0; i < 100; i++) assert.equal(noisy.train.targets.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0), 1, 'still one-hot after the flips');
  });

  it('the images fill an r-dimensional manifold: atanh of the pixels has rank r = latentDim', () => {
    for (const latentDim of [2, 5]) {
      const split = generateSynthetic({ task: 'images', n: 60, nTest: 0, images: { side: 8, channels: 1, latentDim } }, 4);
      const { rows, cols, data } = split.train.inputs;
      const linear = data.map((v) => Math.atanh(v));
      const values = new TsBackend().singularValues(linear, rows, cols);
      assert.ok(values[latentDim - 1] > 1e-3 * values[0], `σ_r / σ_1 = ${values[latentDim - 1] / values[0]}`);
      assert.ok(values[latentDim] < 1e-9 * values[0], `σ_(r+1) / σ_1 = ${values[latentDim] / values[0]}`);
    }
  });

  it('a small CNN learns the classes from the pixels: test error well under chance (3/4) after 300 steps', () => {
    const spec = parseTrialSpec({
      seed: 2,
      model: { family: 'cnn', layers: [{ type: 'conv', channels: 8 }, { type: 'pool', size: 2 }, { type: 'conv', channels: 8 }, { type: 'globalAvgPool' }] },
      data: { task: 'images', n: 512, nTest: 512, images: { side: 8, latentDim: 4, classes: 4 } },
      training: { loss: 'crossEntropy', optimizer: 'sgd', batchSize: 32, learningRate: 0.1, stop: { maxSteps: 300 } },
    });
    const result = runTrial(spec);
    assert.ok((result.final.testError as number) < 0.45, `test error ${result.final.testError}`);
  });
});

describe('the gaussianMixture task', () => {
  it('x = κ·y·s + σ·z: class means at ±κ·s, noise of variance σ² around them, balanced labels, and the Bayes classifier’s error Φ(−κ/σ)', () => {
    const kappa = 1.5;
    const sigma = 2;
    const d = 8;
    const split = generateSynthetic({ task: 'gaussianMixture', inputDim: d, n: 20000, nTest: 20000, mixture: { kappa, sigma }, teacherDirections: [[1, 1, 0, 0, 0, 0, 0, 0]] }, 9);
    const { inputs, targets } = split.train;
    const s = [Math.SQRT1_2, Math.SQRT1_2, 0, 0, 0, 0, 0, 0];
    expectAllClose(Array.from(split.directions?.data ?? []), s, { rtol: 1e-15, atol: 1e-15 });
    const plus = targets.filter((y) => y === 1).length;
    assert.ok(Math.abs(plus / 20000 - 0.5) < 4 * Math.sqrt(0.25 / 20000), `positive share ${plus / 20000}`);
    // ⟨s, x⟩·y ~ N(κ, σ²); the orthogonal coordinates ~ N(0, σ²).
    let along = 0;
    let across = 0;
    for (let i = 0; i < 20000; i++) {
      const x = inputs.data.subarray(i * d, (i + 1) * d);
      along += (targets[i] * (s[0] * x[0] + s[1] * x[1])) / 20000;
      across += x[7] ** 2 / 20000;
    }
    assert.ok(Math.abs(along - kappa) < 4 * (sigma / Math.sqrt(20000)), `mean along s ${along}`);
    assert.ok(Math.abs(across - sigma ** 2) < 4 * sigma ** 2 * Math.sqrt(2 / 20000), `variance across ${across}`);
    const test = split.test;
    let errors = 0;
    for (let i = 0; i < 20000; i++) if (Math.sign(s[0] * test.inputs.data[i * d] + s[1] * test.inputs.data[i * d + 1]) !== test.targets[i]) errors++;
    // Φ(−0.75) = 0.22663.
    const bayes = 0.2266273523768682;
    assert.ok(Math.abs(errors / 20000 - bayes) < 4 * Math.sqrt((bayes * (1 - bayes)) / 20000), `Bayes classifier's error ${errors / 20000}`);
  });
});
