/** The convolutional family: against the MLP family where they coincide, across devices, in chunks, its Jacobian, its spec. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../../src/linalg/index.js';
import type { Backend } from '../../../src/linalg/backend.js';
import type { DType, Matrix } from '../../../src/linalg/matrix.js';
import { CnnEnsemble, cnnFamily, cnnModelSchema, CNN_ARCHITECTURES, type CnnModelSpec } from '../../../src/models/cnn/index.js';
import { MlpEnsemble } from '../../../src/models/mlp/index.js';
import type { Model } from '../../../src/models/model.js';
import { PARAMETRIZATIONS } from '../../../src/models/parametrization.js';
import type { Loss } from '../../../src/linalg/elementwise.js';
import { parseTrialSpec } from '../../../src/experiments/trialSpec.js';
import { buildData, buildModel } from '../../../src/experiments/trial.js';
import { runTrial } from '../../../src/experiments/trialKinds.js';
import { trainEnsemble } from '../../../src/train/trainer.js';
import { CNN_CASES, DTYPES } from '../../cases.js';
import { expectAllClose, randomArray } from '../../helpers.js';
import { nativeSkip } from '../../nativeAvailability.js';
import { backend as reference, inputs, member, smallConfig, targetsFor } from '../fixtures.js';

function evaluate(model: Model, x: Matrix, targets: Float64Array, loss: Loss) {
  const K = model.ensembleSize;
  const outputs = model.dtype === 'float32' ? new Float32Array(K * x.rows * model.outputDim) : new Float64Array(K * x.rows * model.outputDim);
  const losses = new Float64Array(K);
  const gradients = model.allocateGradients();
  model.lossGradient(x, targets, loss, outputs, losses, gradients);
  return { outputs, losses, gradients: Array.from({ length: K }, (_, k) => model.gradientVector(k, gradients)) };
}

function cnnOf(spec: Record<string, unknown>, inputDim: number, outputDim: number, members = [member(3)], device: Backend = reference, imageShape?: readonly [number, number, number], chunk?: number): CnnEnsemble {
  const parsed = cnnModelSchema.parse({ family: 'cnn', ...spec });
  const model = cnnFamily.build(parsed, members, { inputDim, outputDim, trainInputs: { rows: 0, cols: inputDim, data: new Float64Array(0) }, directions: null, task: 'test', imageShape }, device);
  return chunk === undefined ? model : new CnnEnsemble(model.config, members, device, chunk);
}

describe('a convolutional net of 1×1 kernels on 1×1 images is the MLP', () => {
  const pointwise = { type: 'conv', kernel: 1, stride: 1, padding: 0 };
  for (const parametrization of PARAMETRIZATIONS)
    for (const layers of [
      [{ ...pointwise, channels: 5 }, { ...pointwise, channels: 4 }],
      [{ type: 'dense', units: 5 }, { type: 'dense', units: 4 }],
    ])
      it(`${parametrization}, ${layers[0].type} layers: outputs, losses, gradients and 30 steps of training to 1e-12`, () => {
        const members = [member(3, { initScale: 1.2, outputScale: 0.8 }), member(4, { initScale: [0.7, 1.1, 1.4], outputScale: 2 })];
        const mlp = new MlpEnsemble(smallConfig({ inputDim: 3, hiddenWidths: [5, 4], outputDim: 2, activation: 'relu', parametrization, bias: true }), members, reference);
        const cnn = cnnOf({ layers, activation: 'relu', parametrization, bias: true, init: 'lecun' }, 3, 2, members);
        const x = inputs(7, 3, 5);
        const targets = targetsFor('square', 7, 2, 6);
        const [a, b] = [evaluate(mlp, x, targets, 'square'), evaluate(cnn, x, targets, 'square')];
        expectAllClose(b.outputs, a.outputs, { rtol: 1e-12, atol: 1e-14 }, 'outputs');
        expectAllClose(b.losses, a.losses, { rtol: 1e-12 }, 'losses');
        for (let k = 0; k < 2; k++) expectAllClose(b.gradients[k], a.gradients[k], { rtol: 1e-12, atol: 1e-14 }, `gradient of member ${k}`);
        const split = { train: { inputs: x, targets, targetDim: 2, kind: 'regression' as const, classes: 0 }, test: { inputs: x, targets, targetDim: 2, kind: 'regression' as const, classes: 0 }, noisyTrain: null, cleanTrainTargets: null, directions: null };
        const training = parseTrialSpec({ training: { loss: 'square', learningRate: 0.1, stop: { maxSteps: 30 } } }).training;
        const [ra, rb] = [trainEnsemble(mlp, split, training, { seed: 1 }), trainEnsemble(cnn, split, training, { seed: 1 })];
        for (let k = 0; k < 2; k++) expectAllClose([rb[k].final.trainLoss as number], [ra[k].final.trainLoss as number], { rtol: 1e-12 }, 'trained loss');
        expectAllClose(cnn.parameters(1), mlp.parameters(1), { rtol: 1e-11, atol: 1e-13 }, 'trained parameters');
      });
});

describe('the convolutional family in chunks of samples', () => {
  for (const c of CNN_CASES.slice(0, 4))
    it(`${c.name}: passes of 1, 2 and 4 samples give the whole pass's numbers`, () => {
      const x = inputs(7, c.inputDim, 31);
      const targets = targetsFor(c.loss, 7, c.outputDim, 32);
      const whole = evaluate(c.build(reference), x, targets, c.loss);
      for (const chunk of [1, 2, 4]) {
        const model = c.build(reference) as CnnEnsemble;
        const chunked = evaluate(new CnnEnsemble(model.config, c.members, reference, chunk), x, targets, c.loss);
        expectAllClose(chunked.outputs, whole.outputs, { rtol: 1e-12, atol: 1e-14 }, `outputs in chunks of ${chunk}`);
        expectAllClose(chunked.losses, whole.losses, { rtol: 1e-12 }, `losses in chunks of ${chunk}`);
        expectAllClose(chunked.gradients[0], whole.gradients[0], { rtol: 1e-10, atol: 1e-13 }, `gradients in chunks of ${chunk}`);
      }
    });
});

describe('the convolutional Jacobian', () => {
  for (const c of [CNN_CASES[0], CNN_CASES[3], CNN_CASES[CNN_CASES.length - 3]])
    it(`${c.name}: J against finite differences of the outputs, its Gram against J Jᵀ`, () => {
      const model = c.build(reference);
      const k = c.checkedMember;
      model.setParameters(k, model.parameters(k).map((v, i) => v + 0.1 * Math.sin(3 * i)));
      const x = inputs(3, c.inputDim, 41);
      const jac = model.jacobian(k, x);
      const theta = model.parameters(k);
      const rows = x.rows * c.outputDim;
      assert.deepEqual([jac.rows, jac.cols], [rows, theta.length]);
      const member = (out: ArrayLike<number>) => Float64Array.from({ length: rows }, (_, r) => out[k * rows + r]);
      const numeric = new Float64Array(rows * theta.length);
      for (let j = 0; j < theta.length; j++) {
        const h = 1e-6;
        const saved = theta[j];
        theta[j] = saved + h;
        model.setParameters(k, theta);
        const up = member(model.forward(x));
        theta[j] = saved - h;
        model.setParameters(k, theta);
        const down = member(model.forward(x));
        theta[j] = saved;
        model.setParameters(k, theta);
        for (let r = 0; r < rows; r++) numeric[r * theta.length + j] = (up[r] - down[r]) / (2 * h);
      }
      expectAllClose(jac.data, numeric, { rtol: 1e-5, atol: 1e-8 }, 'Jacobian');
      const gram = model.ntkGram(k, x);
      const explicit = new Float64Array(rows * rows);
      for (let a = 0; a < rows; a++)
        for (let b = 0; b < rows; b++) {
          let s = 0;
          for (let j = 0; j < theta.length; j++) s += numeric[a * theta.length + j] * numeric[b * theta.length + j];
          explicit[a * rows + b] = s;
        }
      expectAllClose(gram, explicit, { rtol: 1e-5, atol: 1e-8 }, 'NTK Gram');
      // One sample's rows per block (3 blocks): the blocks below the diagonal and their mirror images.
      expectAllClose((model as CnnEnsemble).ntkGram(k, x, 1), gram, { rtol: 1e-12, atol: 1e-14 }, 'NTK Gram from blocks of one sample');
    });
});

const loaded = createBackend('native');

describe('the convolutional family on the native device against ts', { skip: nativeSkip(loaded) }, () => {
  if (loaded instanceof Error) return;
  const native: Backend = loaded;
  for (const c of CNN_CASES)
    for (const dtype of DTYPES)
      it(`${c.name} (${dtype}): outputs, losses and gradients, one more member masked out`, () => {
        const tol = dtype === 'float32' ? { rtol: 2e-4, atol: 1e-5 } : { rtol: 1e-10, atol: 1e-12 };
        const members = [...c.members, member(99, { initScale: 0.8 })];
        const K = members.length;
        const [a, b] = [c.build(reference, dtype, members), c.build(native, dtype, members)];
        for (const model of [a, b]) for (let k = 0; k < K; k++) model.setParameters(k, model.parameters(k).map((v, i) => v + (c.perturb || 0.1) * Math.cos(i + k)));
        const n = 5;
        const data = randomArray(n * c.inputDim, 11);
        const x = { rows: n, cols: c.inputDim, data: dtype === 'float32' ? Float32Array.from(data) : data };
        const targets = targetsFor(c.loss, n, c.outputDim, 12);
        const active = Uint8Array.from({ length: K }, (_, k) => (k === K - 1 ? 0 : 1));
        const run = (model: Model) => {
          const outputs = dtype === 'float32' ? new Float32Array(K * n * c.outputDim) : new Float64Array(K * n * c.outputDim);
          const losses = new Float64Array(K);
          const gradients = model.allocateGradients();
          model.lossGradient(x, targets, c.loss, outputs, losses, gradients, active);
          return { outputs, losses, gradients: Array.from({ length: K - 1 }, (_, k) => model.gradientVector(k, gradients)) };
        };
        const [ra, rb] = [run(a), run(b)];
        expectAllClose(rb.outputs.subarray(0, (K - 1) * n * c.outputDim), ra.outputs.subarray(0, (K - 1) * n * c.outputDim), tol, 'outputs');
        expectAllClose(rb.losses, ra.losses, tol, 'losses');
        for (let k = 0; k < K - 1; k++) expectAllClose(rb.gradients[k], ra.gradients[k], tol, `gradient of member ${k}`);
      });

  // float32 convolutions run on the device's library where it has one: its gradients summed over chunks,
  // and a stride whose floor drops the last input row (im2col's, not the library's), against ts.
  const floorDropped = { layers: [{ type: 'conv', channels: 4, kernel: 3, stride: 2, padding: 0 }, { type: 'residual', channels: 4 }, { type: 'globalAvgPool' }] };
  for (const [name, spec, shape] of [
    ['a convolution whose stride drops the last row, a residual block', floorDropped, [2, 8, 8]],
    ['resnet8 at width ¼ on 12×12 images', { architecture: 'resnet8', widthMultiplier: 0.25 }, [1, 12, 12]],
  ] as const)
    for (const chunk of [undefined, 2])
      it(`${name} (float32${chunk ? `, chunks of ${chunk}` : ''}): outputs, losses and gradients`, () => {
        const d = shape[0] * shape[1] * shape[2];
        const build = (device: Backend) => cnnOf({ ...spec, dtype: 'float32', activation: 'relu' }, d, 3, [member(13)], device, shape, chunk);
        const x = { rows: 7, cols: d, data: Float32Array.from(randomArray(7 * d, 14)) };
        const targets = targetsFor('crossEntropy', 7, 3, 15);
        const [a, b] = [evaluate(build(reference), x, targets, 'crossEntropy'), evaluate(build(native), x, targets, 'crossEntropy')];
        const tol = { rtol: 2e-4, atol: 1e-5 };
        expectAllClose(b.outputs, a.outputs, tol, 'outputs');
        expectAllClose(b.losses, a.losses, tol, 'losses');
        expectAllClose(b.gradients[0], a.gradients[0], tol, 'gradients');
      });
});

describe('the convolutional family from a spec', () => {
  const weightLayers: Record<(typeof CNN_ARCHITECTURES)[number], number> = { cnn5: 5, vgg: 8, resnet8: 10, resnet20: 22 };
  for (const architecture of CNN_ARCHITECTURES)
    it(`${architecture}: the family counts the weight layers it builds (${weightLayers[architecture]}, projections included) on MNIST-sized images`, () => {
      const spec: CnnModelSpec = cnnModelSchema.parse({ family: 'cnn', architecture, widthMultiplier: 0.25 });
      const model = cnnOf(spec, 784, 10, [member(1)], reference, [1, 28, 28]);
      assert.equal(cnnFamily.layerCount(spec), weightLayers[architecture]);
      assert.equal(model.layerCount, weightLayers[architecture]);
      const features = model.features(0, inputs(2, 784, 3));
      assert.equal(features.rows, 2);
      assert.ok(Number.isFinite(features.data[0]));
    });

  it('a trial spec with family cnn trains on vectors read as images (model.inputShape)', () => {
    const spec = parseTrialSpec({
      data: { task: 'teacher', inputDim: 16, n: 20, nTest: 10 },
      model: { family: 'cnn', layers: [{ type: 'conv', channels: 3 }, { type: 'pool' }], inputShape: [1, 4, 4] },
      training: { loss: 'logistic', learningRate: 0.1, stop: { maxSteps: 20 } },
    });
    const split = buildData(spec);
    const model = buildModel(spec, split);
    assert.equal(model.family, 'cnn');
    const [result] = trainEnsemble(model, split, parseTrialSpec({ training: { loss: 'logistic', learningRate: 0.1, stop: { maxSteps: 20 } } }).training, { seed: 0 });
    assert.ok((result.final.trainLoss as number) < Math.log(2), `trained loss ${result.final.trainLoss}`);
  });

  it('refuses an architecture and listed layers together, an unknown layer type, and a shape that does not fit the data', () => {
    assert.throws(() => parseTrialSpec({ model: { family: 'cnn', architecture: 'cnn5', layers: [] } }), /either architecture .* or layers/);
    assert.throws(() => parseTrialSpec({ model: { family: 'cnn', layers: [{ type: 'lstm' }] } }), /model\.layers\.0\.type/);
    assert.throws(() => parseTrialSpec({ model: { family: 'rnn' } }), /model\.family/);
    const spec = parseTrialSpec({ data: { task: 'teacher', inputDim: 10, n: 8, nTest: 4 }, model: { family: 'cnn', layers: [{ type: 'conv', channels: 2 }], inputShape: [1, 3, 3] } });
    assert.throws(() => buildModel(spec, buildData(spec)), /model\.inputShape: 1×3×3 = 9 values, the data have 10/);
    const tooSmall = parseTrialSpec({ data: { task: 'teacher', inputDim: 4, n: 8, nTest: 4 }, model: { family: 'cnn', layers: [{ type: 'conv', channels: 2, kernel: 5, padding: 0 }], inputShape: [1, 2, 2] } });
    assert.throws(() => buildModel(tooSmall, buildData(tooSmall)), /model\.layers\[0\]: a 5×5 kernel with padding 0 does not fit a 2×2 image/);
  });

  it('a comparison trial narrows a CNN by its width multiplier and stores FSE both ways, the probes and the residual probes', () => {
    const result = runTrial(
      parseTrialSpec({
        seed: 2,
        model: { family: 'cnn', layers: [{ type: 'conv', channels: 8 }, { type: 'globalAvgPool' }], inputShape: [1, 4, 4] },
        data: { task: 'teacher', inputDim: 16, teacherWidth: 3, n: 60, nTest: 40 },
        training: { loss: 'logistic', optimizer: 'gd', learningRate: 0.3, stop: { maxSteps: 60 } },
        comparison: { widthFraction: 0.25, span: { lambda: [1e-3, 1e-1] }, probe: { penalty: [1e-2, 1], steps: 50 } },
      }),
    );
    const m = result.final.metrics;
    assert.deepEqual([m['compare.wideWidth'], m['compare.narrowWidth'], m['compare.copies']], [8, 2, 4]);
    for (const name of ['narrowToWide', 'wideToWide', 'wideToNarrow', 'narrowToNarrow']) assert.ok((m[`compare.fse.${name}`] as number) >= 0, name);
    for (const name of ['wide', 'narrow', 'narrowWithResidual', 'wideWithResidual']) assert.ok(Number.isFinite(m[`compare.probe.${name}`]), name);
  });

  it('a float32 net trains like its float64 twin', () => {
    const c = CNN_CASES[0];
    const x = inputs(6, c.inputDim, 51);
    const targets = targetsFor(c.loss, 6, c.outputDim, 52);
    const run = (dtype: DType) => evaluate(c.build(reference, dtype), x, targets, c.loss);
    const [a, b] = [run('float64'), run('float32')];
    expectAllClose(b.losses, a.losses, { rtol: 1e-5 }, 'losses');
    expectAllClose(b.gradients[0], a.gradients[0], { rtol: 1e-3, atol: 1e-5 }, 'gradients');
  });
});
