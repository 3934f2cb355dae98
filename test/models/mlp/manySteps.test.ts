/**
 * The native training loop (many steps per addon call, src/models/mlp/manySteps.ts) against the TypeScript
 * trainer on the ts backend: every optimizer it runs, every stop rule, activations, losses,
 * parametrizations, biases, frozen layers, f − f₀ and ensembles whose members stop at different steps.
 * Stated tolerance: 1e-10 relative (fp64) on every recorded loss, and the same steps and stop reasons.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../../src/linalg/index.js';
import { TsBackend } from '../../../src/linalg/tsBackend.js';
import type { Backend } from '../../../src/linalg/backend.js';
import type { NativeBackend } from '../../../src/linalg/nativeBackend.js';
import { parseTrialSpec, type TrialInput } from '../../../src/experiments/trialSpec.js';
import { buildData, buildModel, trainingConfig, type MemberOverride } from '../../../src/experiments/trial.js';
import type { DataSplit } from '../../../src/data/dataset.js';
import { trainEnsemble } from '../../../src/train/trainer.js';
import type { MemberResult } from '../../../src/train/records.js';
import { nativeSkip } from '../../nativeAvailability.js';
import { MLP_CASES, type MlpCase } from '../../cases.js';
import { MlpEnsemble } from '../../../src/models/mlp/index.js';
import { randomArray } from '../../helpers.js';
import { targetsFor } from '../fixtures.js';
import { setInterruptCheck, TrainingInterrupted } from '../../../src/train/interrupt.js';

const loaded = createBackend('native');
const reference = new TsBackend();

/** The teacher task's inputs with other labels: class indices (crossEntropy) or real vectors (square). */
function relabel(split: DataSplit, kind: 'classes' | 'regression2'): DataSplit {
  const relabelSet = (set: DataSplit['train']) => {
    const n = set.inputs.rows;
    const x = set.inputs.data;
    if (kind === 'classes') {
      const targets = Float64Array.from({ length: n }, (_, i) => (x[i * set.inputs.cols] > 0.3 ? 2 : x[i * set.inputs.cols + 1] > 0 ? 1 : 0));
      return { ...set, targets, targetDim: 1, kind: 'classes' as const, classes: 3 };
    }
    const targets = Float64Array.from({ length: 2 * n }, (_, i) => Math.sin(3 * x[Math.floor(i / 2) * set.inputs.cols + (i % 2)]));
    return { ...set, targets, targetDim: 2, kind: 'regression' as const, classes: 0 };
  };
  return { ...split, train: relabelSet(split.train), test: relabelSet(split.test), cleanTrainTargets: null, noisyTrain: null };
}

interface Case {
  readonly name: string;
  readonly model?: TrialInput['model'];
  readonly training: TrialInput['training'];
  readonly labels?: 'classes' | 'regression2';
  readonly members: MemberOverride[];
}

const CASES: Case[] = [
  {
    name: 'gd, ReLU, logistic, target risk: three members stop at different steps',
    training: { learningRate: 0.5, stop: { maxSteps: 600, targetTrainRisk: 0.25 } },
    members: [{ initScale: 1 }, { initScale: 0.3 }, { initScale: 2, outputScale: 0.5 }],
  },
  {
    name: 'gd, tanh, square with two outputs, biases, plateau rule',
    model: { activation: 'tanh', bias: true },
    labels: 'regression2',
    training: { loss: 'square', learningRate: 0.2, stop: { maxSteps: 800, plateau: { window: 10, relativeTolerance: 0.02 } }, record: { pointsPerDecade: 30 } },
    members: [{ initScale: 1 }, { initScale: 0.5, initSeed: 7 }],
  },
  {
    name: 'gd, GeLU, cross-entropy over three classes, mean-field, f − f₀, interpolation',
    model: { activation: 'gelu', parametrization: 'meanField', centerOutput: true, bias: true },
    labels: 'classes',
    training: { loss: 'crossEntropy', learningRate: 4, stop: { maxSteps: 500, interpolation: true } },
    members: [{}, { initSeed: 3 }],
  },
  {
    name: 'adam, two hidden layers, ntk, frozen first layer, gradient tolerance and maxTime',
    model: { hiddenWidths: [12, 9], activation: 'swish', parametrization: 'ntk', frozenLayers: [0] },
    // Member 0 reaches ‖∇L‖ < 0.02 at step 218 (time 2.18); member 1 would at step 120, past maxTime 2.3.
    training: { optimizer: 'adam', learningRate: 0.01, stop: { maxSteps: 400, maxTime: 2.3, gradientTolerance: 0.02 } },
    members: [{ learningRate: 0.01 }, { learningRate: 0.02, initSeed: 5 }],
  },
  {
    name: 'gd, ReLU, logistic, window stationarity: members settle at different window ends',
    training: { learningRate: 0.5, stop: { maxSteps: 2000, windowStationarity: { window: 40, meanGradient: 0.02, relativeLossChange: 0.05 } } },
    members: [{}, { learningRate: 0.2, initSeed: 6 }],
  },
  {
    name: 'gd that diverges for one member',
    training: { learningRate: 0.5, stop: { maxSteps: 300 } },
    members: [{}, { learningRate: 400, outputScale: 30 }],
  },
  {
    name: 'sgd, ReLU, logistic, batches of 16, maxTime',
    training: { optimizer: 'sgd', batchSize: 16, learningRate: 0.3, stop: { maxSteps: 700, maxTime: 150 } },
    members: [{ learningRate: 0.3 }, { learningRate: 0.2, initSeed: 2 }],
  },
  {
    name: 'adam with minibatches, leaky ReLU, f − f₀, biases',
    model: { activation: 'leakyRelu', centerOutput: true, bias: true },
    training: { optimizer: 'adam', batchSize: 25, learningRate: 0.005, stop: { maxSteps: 300 } },
    members: [{}, { initScale: 0.2 }],
  },
];

function train(c: Case, backend: Backend): MemberResult[] {
  const spec = parseTrialSpec({
    seed: 4,
    model: { hiddenWidths: [24], activation: 'relu', ...c.model },
    data: { task: 'teacher', inputDim: 3, teacherWidth: 2, n: 80, nTest: 50 },
    training: { record: { pointsPerDecade: 12 }, ...c.training },
  });
  const base = buildData(spec, reference);
  const split = c.labels ? relabel(base, c.labels) : base;
  const model = buildModel(spec, split, c.members, backend);
  return trainEnsemble(model, split, trainingConfig(spec), { seed: spec.seed, learningRates: c.members.map((m) => m.learningRate ?? spec.training.learningRate) });
}

function close(actual: number | null, expected: number | null, what: string): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, what);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= 1e-10 * Math.abs(expected) + 1e-13, `${what}: ${actual} vs ${expected}`);
}

function compare(native: MemberResult[], ts: MemberResult[], name: string): void {
  ts.forEach((expected, k) => {
    const got = native[k];
    const who = `${name}, member ${k}`;
    assert.equal(got.stopReason, expected.stopReason, `${who}: stop reason`);
    assert.equal(got.steps, expected.steps, `${who}: steps`);
    assert.deepEqual(
      got.curve.map((p) => p.step),
      expected.curve.map((p) => p.step),
      `${who}: recorded steps`,
    );
    got.curve.forEach((p, i) => {
      const e = expected.curve[i];
      if (expected.status === 'diverged' && i === got.curve.length - 1) return;
      close(p.trainLoss, e.trainLoss, `${who} train loss at step ${p.step}`);
      close(p.testLoss, e.testLoss, `${who} test loss at step ${p.step}`);
      assert.equal(p.trainError, e.trainError, `${who} train error at step ${p.step}`);
    });
  });
}

/** A model case's own small task: inputs of its dimension and targets fitting its loss. */
function caseSplit(c: MlpCase, dtype: 'float64' | 'float32'): DataSplit {
  const { inputDim, outputDim } = c.config;
  const set = (n: number, seed: number): DataSplit['train'] => {
    const data = randomArray(n * inputDim, seed);
    const targets = targetsFor(c.loss, n, outputDim, seed + 1);
    const inputs = { rows: n, cols: inputDim, data: dtype === 'float32' ? Float32Array.from(data) : data };
    if (c.loss === 'logistic') return { inputs, targets, targetDim: 1, kind: 'binary', classes: 2 };
    if (c.loss === 'crossEntropy') return { inputs, targets, targetDim: 1, kind: 'classes', classes: outputDim };
    return { inputs, targets, targetDim: outputDim, kind: 'regression', classes: 0 };
  };
  return { train: set(24, 31), test: set(10, 41), noisyTrain: null, cleanTrainTargets: null, directions: null };
}

describe('native training loop', { skip: nativeSkip(loaded) }, () => {
  if (loaded instanceof Error) return;
  const native = loaded as NativeBackend;
  // Every row of the shared case table: 40 steps of GD, recorded, the same numbers on both devices.
  for (const c of MLP_CASES)
    it(`${c.name}: 40 GD steps give the TypeScript trainer's numbers`, () => {
      const split = caseSplit(c, 'float64');
      const training = parseTrialSpec({ training: { loss: c.loss, learningRate: 0.05, stop: { maxSteps: 40 }, record: { pointsPerDecade: 5 } } }).training;
      const run = (backend: Backend) => trainEnsemble(new MlpEnsemble(c.config, c.members, backend), split, training, { seed: 1 });
      compare(run(native), run(reference), c.name);
    });
  for (const c of CASES)
    it(`${c.name}: the numbers of the TypeScript trainer`, () => {
      const ts = train(c, reference);
      const nat = train(c, native);
      compare(nat, ts, c.name);
      // The case does what its name says (the stop rules fire where they should be tested).
      if (c.name.includes('stop at different steps')) assert.ok(new Set(ts.map((r) => r.steps)).size > 1, 'members stop at different steps');
      if (c.name.includes('diverges')) assert.deepEqual(ts.map((r) => r.status), ['completed', 'diverged']);
      if (c.name.includes('plateau')) assert.ok(ts.some((r) => r.stopReason === 'plateau'), 'the plateau rule fires');
      if (c.name.includes('interpolation')) assert.ok(ts.some((r) => r.stopReason === 'interpolated'), 'interpolation fires');
      if (c.name.includes('window stationarity')) {
        assert.deepEqual(ts.map((r) => r.stopReason), ['windowStationary', 'windowStationary'], 'the window rule fires for both');
        assert.ok(ts.every((r) => r.steps % 40 === 0) && ts[0].steps !== ts[1].steps, `stops at window ends: ${ts.map((r) => r.steps)}`);
        ts.forEach((r, k) => close(nat[k].final.metrics['window.meanGradient'], r.final.metrics['window.meanGradient'], `member ${k}'s window-mean gradient`));
      }
      if (c.name.includes('gradient tolerance')) assert.deepEqual(ts.map((r) => r.stopReason), ['stationary', 'maxTime'], 'one member stops on each rule');
    });

  it('gives the same numbers, bit for bit, on one thread and on several', () => {
    const saved = native.threads;
    try {
      for (const c of CASES.filter((x) => x.name.startsWith('gd, ReLU, logistic, target') || x.name.startsWith('sgd'))) {
        native.threads = 1;
        const one = train(c, native);
        native.threads = 3;
        const three = train(c, native);
        assert.deepEqual(
          three.map((r) => r.curve.map((p) => p.trainLoss)),
          one.map((r) => r.curve.map((p) => p.trainLoss)),
        );
      }
      // One wide member: its rows are split in lanes, summed in a fixed order whatever the threads.
      const wide: Case = { name: 'wide', model: { hiddenWidths: [1200] }, training: { learningRate: 0.5, stop: { maxSteps: 30 } }, members: [{}] };
      native.threads = 1;
      const one = train(wide, native);
      native.threads = 2;
      const two = train(wide, native);
      assert.deepEqual(two[0].curve.map((p) => p.trainLoss), one[0].curve.map((p) => p.trainLoss));
      compare(two, train(wide, reference), 'wide');
    } finally {
      native.threads = saved;
    }
  });

  it('stops a long native run promptly when interrupted', () => {
    const c: Case = { name: 'long', training: { learningRate: 0.01, stop: { maxSteps: 1e9 } }, members: [{}] };
    const started = performance.now();
    setInterruptCheck(() => performance.now() - started > 300);
    try {
      assert.throws(() => train(c, native), TrainingInterrupted);
    } finally {
      setInterruptCheck(null);
    }
    // A call returns within its 0.2 s slice, so the stop is seen well within a second.
    assert.ok(performance.now() - started < 1500, `stopped after ${performance.now() - started} ms`);
  });
});
