import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec, type TrialInput } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { logSpacedSteps } from '../../src/train/schedule.js';
import { createBackend } from '../../src/linalg/index.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import type { Backend } from '../../src/linalg/backend.js';
import { nativeSkip } from '../nativeAvailability.js';

function teacherSpec(training: TrialInput['training'], model: TrialInput['model'] = {}) {
  return parseTrialSpec({
    seed: 1,
    model: { hiddenWidths: [30], activation: 'relu', ...model },
    data: { task: 'teacher', inputDim: 2, teacherWidth: 3, n: 60, nTest: 100 },
    training,
  });
}

function hasNaN(value: unknown): boolean {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? '__bad__' : v)).includes('__bad__');
}

describe('trainer', () => {
  it('gives identical numbers for the same trial twice', () => {
    const s = teacherSpec({ optimizer: 'sgd', batchSize: 10, stop: { maxSteps: 200 } });
    const a = runTrial(s);
    const b = runTrial(s);
    assert.deepEqual({ ...a, seconds: 0 }, { ...b, seconds: 0 });
  });

  it('stops at the first step at or below the target training risk', () => {
    const r = runTrial(teacherSpec({ learningRate: 0.5, stop: { maxSteps: 5000, targetTrainRisk: 0.05 }, record: { pointsPerDecade: 1000 } }));
    assert.equal(r.stopReason, 'targetRisk');
    assert.ok((r.final.trainLoss as number) <= 0.05);
    // With a point every step, the previous one is above the target.
    const previous = r.curve[r.curve.length - 2];
    assert.equal(previous.step, r.steps - 1);
    assert.ok((previous.trainLoss as number) > 0.05);
  });

  it('stops at interpolation with zero training error', () => {
    const r = runTrial(teacherSpec({ learningRate: 0.5, stop: { maxSteps: 5000, interpolation: true } }));
    assert.equal(r.stopReason, 'interpolated');
    assert.equal(r.final.trainError, 0);
    assert.ok(r.curve.slice(0, -1).every((p) => (p.trainError as number) > 0));
  });

  for (const [name, loaded] of [['ts', new TsBackend()], ['native', createBackend('native')]] as [string, Backend | Error][])
    it(`stops at the first step whose training accuracy reaches the target, on ${name}`, { skip: nativeSkip(loaded) }, () => {
      if (loaded instanceof Error) return;
      const r = runTrial(teacherSpec({ learningRate: 0.5, stop: { maxSteps: 5000, targetTrainAccuracy: 0.9 }, record: { pointsPerDecade: 1000 } }), { backend: loaded });
      assert.equal(r.stopReason, 'targetAccuracy');
      assert.ok((r.final.trainError as number) <= 0.1);
      const previous = r.curve[r.curve.length - 2];
      assert.equal(previous.step, r.steps - 1);
      assert.ok((previous.trainError as number) > 0.1, `the step before had ${previous.trainError}`);
    });

  it('counts an epoch budget in passes over the data: 3 epochs of 60 points in batches of 16 are 12 steps', () => {
    const r = runTrial(teacherSpec({ optimizer: 'sgd', batchSize: 16, stop: { maxEpochs: 3 } }));
    assert.equal(r.stopReason, 'maxEpochs');
    assert.equal(r.steps, 12);
    const gd = runTrial(teacherSpec({ stop: { maxEpochs: 7 } }));
    assert.deepEqual([gd.stopReason, gd.steps], ['maxEpochs', 7], 'a full-batch step is an epoch');
  });

  it('reports a diverging learning rate as diverged, with no NaN anywhere', () => {
    const s = parseTrialSpec({
      model: { hiddenWidths: [20], activation: 'linear' },
      data: { task: 'linearTeacher', inputDim: 5, labels: 'value', n: 30, nTest: 10 },
      training: { loss: 'square', learningRate: 50, stop: { maxSteps: 1000 } },
    });
    const r = runTrial(s);
    assert.equal(r.status, 'diverged');
    assert.equal(r.stopReason, 'diverged');
    // The last loss is either past the divergence threshold or not a number (stored as null).
    assert.ok(r.final.trainLoss === null || r.final.trainLoss > 1e12);
    assert.ok(r.steps < 1000);
    assert.equal(hasNaN(r), false);
  });

  it('a diverging minibatch run is stopped as diverged though no rule reads the state at epoch ends', () => {
    const s = parseTrialSpec({
      model: { hiddenWidths: [20], activation: 'linear' },
      data: { task: 'linearTeacher', inputDim: 5, labels: 'value', n: 300, nTest: 10 },
      training: { loss: 'square', optimizer: 'sgd', batchSize: 10, learningRate: 50, stop: { maxSteps: 100000 } },
    });
    const r = runTrial(s);
    assert.equal(r.stopReason, 'diverged');
    assert.ok(r.steps < 1000, `stopped after ${r.steps} steps`);
    assert.equal(hasNaN(r), false);
  });

  it('stops on a plateau', () => {
    const r = runTrial(teacherSpec({ learningRate: 0.2, stop: { maxSteps: 100000, plateau: { window: 50, relativeTolerance: 0.01 } } }));
    assert.equal(r.stopReason, 'plateau');
    assert.ok(r.steps >= 50 && r.steps < 100000);
  });

  it('stops when the gradient norm reaches the stationarity tolerance, and not a step before', () => {
    // A net linear in its trained weights on the square loss converges geometrically: ‖∇L‖ falls through 1e-6.
    const input: TrialInput = {
      data: { task: 'teacher', inputDim: 4, n: 30, nTest: 0, labels: 'value' },
      model: { hiddenWidths: [20], activation: 'linear', init: 'fixedSigns', initScale: [1, 0.3] },
      training: { loss: 'square', learningRate: 0.3, stop: { maxSteps: 100000, gradientTolerance: 1e-6 } },
    };
    const r = runTrial(parseTrialSpec(input));
    assert.equal(r.stopReason, 'stationary');
    assert.ok(r.steps > 10 && r.steps < 100000);
    // One step earlier the rule had not fired: rerun with that budget and measure the gradient there.
    const norms: number[] = [];
    const earlier = runEnsembleTrial(parseTrialSpec({ ...input, training: { ...input.training, stop: { maxSteps: r.steps - 1 } } }), [{}], {
      hooks: [({ model, split, final }) => {
        if (!final) return {};
        const out = new Float64Array(split.train.inputs.rows);
        const losses = new Float64Array(1);
        const g = model.allocateGradients();
        model.lossGradient(split.train.inputs, split.train.targets, 'square', out, losses, g);
        norms.push(Math.hypot(...model.gradientVector(0, g)));
        return {};
      }],
    });
    assert.equal(earlier.results[0].stopReason, 'maxSteps');
    assert.ok(norms[0] > 1e-6, `‖∇L‖ one step before: ${norms[0]}`);
  });

  it('windowStationarity: stops at the first window end where the mean of the window’s gradients and its loss change are within tolerance, and reads that mean', () => {
    const W = 25;
    const rule = { window: W, meanGradient: 0.01, relativeLossChange: 0.005 };
    const input: TrialInput = {
      // 200 noisy targets, 120 parameters: the run settles at a non-interpolating point (step 300).
      data: { task: 'teacher', inputDim: 4, n: 200, nTest: 0, labels: 'value', labelNoise: { additive: 0.5 } },
      model: { hiddenWidths: [20], activation: 'relu', init: 'fixedSigns', initScale: [1, 0.3] },
      // Every step up to ~860 is a recording step, so the hook sees the gradient at each.
      training: { loss: 'square', learningRate: 0.3, stop: { maxSteps: 800, windowStationarity: rule }, record: { pointsPerDecade: 3000 } },
    };
    const gradients = new Map<number, number[]>();
    const losses = new Map<number, number>();
    const run = runEnsembleTrial(parseTrialSpec(input), [{}], {
      hooks: [({ model, split, step }) => {
        const out = new Float64Array(split.train.inputs.rows);
        const loss = new Float64Array(1);
        const g = model.allocateGradients();
        model.lossGradient(split.train.inputs, split.train.targets, 'square', out, loss, g);
        gradients.set(step, Array.from(model.gradientVector(0, g)));
        losses.set(step, loss[0]);
        return {};
      }],
    });
    const r = run.results[0];
    assert.equal(r.stopReason, 'windowStationary');
    assert.equal(r.steps % W, 0);
    assert.ok(r.steps >= 2 * W, `stopped at ${r.steps}`);
    // ḡ over [from, from + W): the mean of the per-step gradients, and the loss change over the window.
    const reading = (from: number) => {
      const mean = new Float64Array(gradients.get(from)?.length ?? 0);
      for (let s = from; s < from + W; s++) (gradients.get(s) ?? []).forEach((v, i) => (mean[i] += v / W));
      const before = losses.get(from) as number;
      return { meanGradient: Math.hypot(...mean), relativeLossChange: (before - (losses.get(from + W) as number)) / before };
    };
    const last = reading(r.steps - W);
    const stored = r.final.metrics['window.meanGradient'] as number;
    assert.ok(Math.abs(stored - last.meanGradient) <= 1e-9 * last.meanGradient, `stored ${stored} vs the mean of the window's gradients ${last.meanGradient}`);
    assert.ok(last.meanGradient <= rule.meanGradient && Math.abs(last.relativeLossChange) <= rule.relativeLossChange);
    const before = reading(r.steps - 2 * W);
    assert.ok(before.meanGradient > rule.meanGradient || Math.abs(before.relativeLossChange) > rule.relativeLossChange, 'the window before had not settled');
  });

  it('counts time as learning rate × steps and stops at maxTime', () => {
    const r = runTrial(teacherSpec({ learningRate: 0.25, stop: { maxSteps: 1000, maxTime: 10 } }));
    assert.equal(r.stopReason, 'maxTime');
    assert.equal(r.steps, 40);
    assert.equal(r.time, 10);
  });

  it('records at log-spaced steps plus the final state', () => {
    const r = runTrial(teacherSpec({ stop: { maxSteps: 1000 }, record: { pointsPerDecade: 5 } }));
    assert.deepEqual(
      r.curve.map((p) => p.step),
      logSpacedSteps(1000, 5),
    );
    assert.deepEqual(logSpacedSteps(100, 2), [0, 1, 3, 10, 31, 100]);
  });

  it('a zero layer learning rate leaves that layer where it started', () => {
    const { model } = runEnsembleTrial(teacherSpec({ layerLearningRates: [0, 1], stop: { maxSteps: 50 } }));
    assert.deepEqual(model.slots[0].values, model.slots[0].initial);
    assert.notDeepEqual(model.slots[1].values, model.slots[1].initial);
  });

  it('runs hooks at every recording point and stores what they return', () => {
    const seen: number[] = [];
    const { results } = runEnsembleTrial(teacherSpec({ stop: { maxSteps: 100 } }), [{}], {
      hooks: [({ step, final }) => (seen.push(step), { twiceStep: 2 * step, isFinal: final ? 1 : 0, broken: NaN })],
    });
    const curve = results[0].curve;
    assert.deepEqual(seen, curve.map((p) => p.step));
    assert.ok(curve.every((p) => p.metrics.twiceStep === 2 * p.step && p.metrics.broken === null));
    assert.equal(curve[curve.length - 1].metrics.isFinal, 1);
  });

  it('rejects a loss that does not fit the labels, naming the field', () => {
    const s = parseTrialSpec({ data: { task: 'line1d', labels: 'value' }, training: { loss: 'logistic' } });
    assert.throws(() => runTrial(s), /training\.loss/);
  });
});

describe('trainer options', () => {
  it('f − f₀ starts from a zero function, also with minibatches', () => {
    for (const training of [{ stop: { maxSteps: 30 } }, { optimizer: 'sgd' as const, batchSize: 7, stop: { maxSteps: 30 } }]) {
      const r = runTrial(teacherSpec(training, { centerOutput: true, initScale: 3 }));
      assert.ok(Math.abs((r.curve[0].trainLoss as number) - Math.log(2)) < 1e-12, 'logistic loss of f = 0 is log 2');
      assert.ok((r.final.trainLoss as number) < Math.log(2));
    }
    // Minibatch steps on f − f₀ equal full-batch steps when the batch is the whole set.
    const full = runTrial(teacherSpec({ stop: { maxSteps: 20 } }, { centerOutput: true }));
    const oneBatch = runTrial(teacherSpec({ optimizer: 'sgd', batchSize: 60, stop: { maxSteps: 20 } }, { centerOutput: true }));
    assert.ok(Math.abs((full.final.trainLoss as number) - (oneBatch.final.trainLoss as number)) < 1e-12);
  });

  it('fp32 training follows fp64 closely', () => {
    const r64 = runTrial(teacherSpec({ stop: { maxSteps: 200 } }));
    const r32 = runTrial(teacherSpec({ stop: { maxSteps: 200 } }, { dtype: 'float32' }));
    const [a, b] = [r64.final.trainLoss as number, r32.final.trainLoss as number];
    assert.ok(Math.abs(a - b) / a < 1e-4, `${a} vs ${b}`);
  });
});
