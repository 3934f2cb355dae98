import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec, type TrialInput } from '../../src/experiments/trialSpec.js';
import { buildData, buildModel, runEnsembleTrial } from '../../src/experiments/trial.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { metricsHook } from '../../src/metrics/registry.js';
import { SpecError } from '../../src/experiments/trialSpec.js';
import { asMlp } from '../models/fixtures.js';

function lineSpec(extra: Partial<TrialInput> = {}) {
  return parseTrialSpec({
    seed: 3,
    model: { hiddenWidths: [30], activation: 'linear', initScale: [0.2, 0.2] },
    data: { task: 'line1d', inputDim: 5, labels: 'value', n: 20, nTest: 0, slope: 1.2 },
    training: { loss: 'square', optimizer: 'gradientFlow', gradientFlow: { tolerance: 1e-9 }, stop: { maxSteps: 100000, maxTime: 60 } },
    metrics: [{ name: 'layers', at: 'final' }],
    ...extra,
  });
}

describe('registered metrics in trials', () => {
  it('zeta of an exactly aligned linear net is 1', () => {
    const spec = lineSpec();
    const split = buildData(spec);
    const model = asMlp(buildModel(spec, split));
    const e = split.directions?.data as Float64Array;
    const u = Float64Array.from({ length: 30 }, (_, j) => Math.sin(j + 1));
    // W = u eᵀ maps every x = a·e to a·u, and the output row is u itself.
    const [m0, m1] = model.scalings.map((s) => s.multiplier);
    model.batch.weights[0].set(Float64Array.from({ length: 30 * 5 }, (_, i) => (u[Math.floor(i / 5)] * e[i % 5]) / m0));
    model.batch.weights[1].set(u.map((v) => v / m1));
    const values = metricsHook([{ name: 'layers', at: 'record', every: 1 }])({ model, member: 0, split, step: 0, time: 0, final: false });
    assert.ok(Math.abs((values.alignmentAngle as number) - 1) < 1e-12);
    assert.ok(Math.abs((values['layer1.alignment'] as number) - 1) < 1e-12);
  });

  it('the final zeta of a trained linear net equals the closed form y/√(y² + ‖u₀‖²‖W₀x‖²(1 − ζ₀²)) (seed 002)', () => {
    const spec = lineSpec();
    const run = runEnsembleTrial(spec);
    const { split, results } = run;
    const model = asMlp(run.model);
    const e = split.directions?.data as Float64Array;
    const train = split.train;
    let a2 = 0;
    let ay = 0;
    for (let i = 0; i < train.inputs.rows; i++) {
      const a = Array.from(e).reduce((s, v, c) => s + v * train.inputs.data[i * 5 + c], 0);
      a2 += (a * a) / train.inputs.rows;
      ay += (a * train.targets[i]) / train.inputs.rows;
    }
    const x = Array.from(e, (v) => v * Math.sqrt(a2));
    const y = ay / Math.sqrt(a2);
    const [m0, m1] = model.scalings.map((s) => s.multiplier);
    const u0 = Array.from(model.initialWeights[1], (v) => m1 * v);
    const w0x = Array.from({ length: 30 }, (_, j) => x.reduce((s, xc, c) => s + m0 * model.initialWeights[0][j * 5 + c] * xc, 0));
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, a) => s + a * a, 0));
    const zeta0 = u0.reduce((s, v, j) => s + v * w0x[j], 0) / (norm(u0) * norm(w0x));
    const expected = y / Math.sqrt(y * y + norm(u0) ** 2 * norm(w0x) ** 2 * (1 - zeta0 ** 2));
    const measured = results[0].final.metrics.alignmentAngle as number;
    assert.ok(results[0].final.trainLoss !== null && results[0].final.trainLoss < 1e-12, 'converged');
    assert.ok(Math.abs(measured - expected) < 1e-6, `${measured} vs ${expected}`);
    assert.ok(expected > 0.9 && Math.abs(zeta0) < 0.5, 'a case of learning by alignment');
  });

  it('overfitting: the fitted share of the flipped points and of the rest, counted by hand from the outputs', () => {
    const spec = parseTrialSpec({
      seed: 5,
      model: { hiddenWidths: [60], activation: 'relu', initScale: 2 },
      data: { task: 'teacher', inputDim: 3, teacherWidth: 2, n: 80, nTest: 300, labelNoise: { flip: 0.2 } },
      training: { loss: 'logistic', learningRate: 0.05, stop: { maxSteps: 300 } },
    });
    const split = buildData(spec);
    const model = asMlp(buildModel(spec, split));
    const values = metricsHook([{ name: 'overfitting', at: 'record', every: 1 }])({ model, member: 0, split, step: 0, time: 0, final: false });
    const out = model.forward(split.train.inputs, new Float64Array(80));
    const noisy = split.noisyTrain as Uint8Array;
    assert.equal(noisy.reduce((a, b) => a + b, 0), 16);
    let fittedNoisy = 0;
    let fittedClean = 0;
    for (let i = 0; i < 80; i++) {
      if (!(out[i] * split.train.targets[i] > 0)) continue;
      if (noisy[i]) fittedNoisy++;
      else fittedClean++;
    }
    assert.equal(values['overfitting.noiseFitted'], fittedNoisy / 16);
    assert.equal(values['overfitting.cleanFitted'], fittedClean / 64);
    const testOut = model.forward(split.test.inputs, new Float64Array(300));
    let testWrong = 0;
    for (let i = 0; i < 300; i++) if (!(testOut[i] * split.test.targets[i] > 0)) testWrong++;
    assert.equal(values['overfitting.noiseFittedBaseline'], testWrong / 300);
    assert.ok(Math.abs((values['overfitting.gap'] as number) - (testWrong / 300 - (80 - fittedNoisy - fittedClean) / 80)) < 1e-15);
    // A net trained to zero training error fits every flipped point.
    const trained = runTrial(
      parseTrialSpec({
        seed: 5,
        model: { hiddenWidths: [200], activation: 'relu' },
        data: { task: 'teacher', inputDim: 10, teacherWidth: 2, n: 80, nTest: 300, labelNoise: { flip: 0.2 } },
        training: { loss: 'logistic', learningRate: 0.5, stop: { maxSteps: 20000, interpolation: true } },
        metrics: [{ name: 'overfitting', at: 'final' }],
      }),
    );
    assert.equal(trained.stopReason, 'interpolated');
    assert.equal(trained.final.metrics['overfitting.noiseFitted'], 1);
  });

  it('neurons: the random baseline is the same measures at the initial weights, and collapsed neurons have one effective direction', () => {
    const spec = parseTrialSpec({
      seed: 2,
      model: { hiddenWidths: [40], activation: 'relu' },
      data: { task: 'teacher', inputDim: 4, teacherWidth: 2, n: 50, nTest: 0 },
      metrics: [{ name: 'neurons' }],
    });
    const split = buildData(spec);
    const model = asMlp(buildModel(spec, split));
    const hook = metricsHook([{ name: 'neurons', at: 'record', every: 1 }]);
    const atInit = hook({ model, member: 0, split, step: 0, time: 0, final: false });
    for (const m of ['distinctDirections', 'effectiveDirections', 'top2DirectionMass', 'weightedAbsPairCosine']) assert.equal(atInit[`neurons.random.${m}`], atInit[`neurons.${m}`], m);
    // Every neuron along one direction (positive multiples): one cluster, weighted |cos| 1; the baseline stays.
    const w = model.batch.weights[0];
    const scale = model.scalings[0].multiplier;
    for (let j = 0; j < 40; j++) for (let c = 0; c < 4; c++) w[j * 4 + c] = ((1 + j) * [1, 2, -1, 0.5][c]) / scale;
    const collapsed = hook({ model, member: 0, split, step: 1, time: 1, final: false });
    assert.ok(Math.abs((collapsed['neurons.effectiveDirections'] as number) - 1) < 1e-12);
    assert.ok(Math.abs((collapsed['neurons.top2DirectionMass'] as number) - 1) < 1e-12);
    assert.ok(Math.abs((collapsed['neurons.weightedAbsPairCosine'] as number) - 1) < 1e-12);
    assert.equal(collapsed['neurons.random.effectiveDirections'], atInit['neurons.random.effectiveDirections']);
    assert.ok((atInit['neurons.random.effectiveDirections'] as number) > 10);
  });

  it('gradient: ‖∇L‖ equals the directional derivative of the loss along the gradient (central differences), and stops the gradientTolerance rule below its tolerance', () => {
    const input = {
      seed: 2,
      model: { hiddenWidths: [12], activation: 'tanh', bias: true },
      data: { task: 'teacher', inputDim: 3, labels: 'value', n: 30, nTest: 0 },
      training: { loss: 'square', learningRate: 0.2, stop: { maxSteps: 200 } },
    } as const;
    const spec = parseTrialSpec(input);
    const split = buildData(spec);
    const model = asMlp(buildModel(spec, split));
    const dynamics = { optimizer: 'gd' as const, stepSizes: new Float64Array([0.2, 0.2]), loss: 'square' as const };
    const values = metricsHook([{ name: 'gradient', at: 'record', every: 1 }])({ model, member: 0, split, step: 0, time: 0, final: false, dynamics });
    const g = values['gradient.norm'] as number;
    // d/dε L(θ + ε·∇L/‖∇L‖) at ε = 0 is ‖∇L‖.
    const theta = model.parameters(0);
    const gradients = model.allocateGradients();
    const outputs = new Float64Array(30);
    const losses = new Float64Array(1);
    model.lossGradient(split.train.inputs, split.train.targets, 'square', outputs, losses, gradients);
    const direction = model.gradientVector(0, gradients).map((v) => v / g);
    const lossAt = (eps: number) => {
      model.setParameters(0, theta.map((v, i) => v + eps * direction[i]));
      model.lossGradient(split.train.inputs, split.train.targets, 'square', outputs, losses, gradients);
      return losses[0];
    };
    const eps = 1e-5;
    const slope = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    model.setParameters(0, theta);
    assert.ok(g > 1e-3 && Math.abs(slope - g) < 1e-7 * g, `‖∇L‖ ${g} vs slope ${slope}`);
    const size = Math.sqrt(theta.reduce((a, v) => a + v * v, 0));
    assert.ok(Math.abs((values['gradient.relative'] as number) - g / size) < 1e-15);
    // The trainer's rule reads the same norm: a run stopped by gradientTolerance ends just below it.
    const stopped = parseTrialSpec({ ...input, training: { ...input.training, stop: { maxSteps: 100000, gradientTolerance: 0.01 } }, metrics: [{ name: 'gradient', at: 'final' }] });
    const result = runTrial(stopped);
    assert.equal(result.stopReason, 'stationary');
    const final = result.final.metrics['gradient.norm'] as number;
    assert.ok(final < 0.01 && final > 0.009, `final ‖∇L‖ ${final}`);
  });

  it('evaluates at every k-th recording point, or only at the end', () => {
    const spec = parseTrialSpec({
      data: { task: 'teacher', inputDim: 2, n: 30, nTest: 30 },
      model: { hiddenWidths: [10] },
      training: { stop: { maxSteps: 100 }, record: { pointsPerDecade: 2 } },
      metrics: [{ name: 'margins', every: 2 }, { name: 'neurons', at: 'final' }],
    });
    const r = runTrial(spec);
    const withMargins = r.curve.filter((p) => 'margin.min' in p.metrics).map((p) => p.step);
    assert.deepEqual(withMargins, [0, 3, 31, 100]);
    assert.deepEqual(r.curve.filter((p) => 'neurons.distinctDirections' in p.metrics).map((p) => p.step), [100]);
    assert.ok(r.series.some((s) => s.name === 'neurons.norm' && s.step === 100));
  });

  it('the NTK moves little in a lazy run and much in a rich one', () => {
    const distance = (outputScale: number, learningRate: number) => {
      const spec = parseTrialSpec({
        data: { task: 'teacher', inputDim: 2, teacherWidth: 2, n: 40, nTest: 0 },
        model: { hiddenWidths: [100], outputScale },
        training: { learningRate, stop: { maxSteps: 400, targetTrainRisk: 0.05 } },
        metrics: [{ name: 'kernel', at: 'final', params: { samples: 40 } }],
      });
      return runTrial(spec).final.metrics['ntk.distanceFromInit'] as number;
    };
    // Large output scale (small feature learning strength) is lazy; the step moves against the scale.
    const lazy = distance(20, 0.01);
    const rich = distance(0.05, 40);
    assert.ok(lazy < 1e-3 && rich > 0.03 && rich > 100 * lazy, `lazy ${lazy}, rich ${rich}`);
  });

  it('label energy in the top of the Jacobian spectrum is larger for clean than for noisy labels', () => {
    const energy = (flip: number) => {
      const spec = parseTrialSpec({
        data: { task: 'teacher', inputDim: 5, teacherWidth: 1, n: 150, nTest: 0, labelNoise: { flip } },
        model: { hiddenWidths: [50], bias: true },
        training: { stop: { maxSteps: 0 } },
        metrics: [{ name: 'jacobian', params: { topK: [5] } }],
      });
      return runTrial(spec).final.metrics;
    };
    const clean = energy(0);
    const noisy = energy(0.4);
    const someNoise = energy(0.1);
    assert.ok((clean['jacobian.labelEnergy.top5'] as number) > (noisy['jacobian.labelEnergy.top5'] as number) + 0.1);
    const info = clean['jacobian.labelEnergy.information'] as number;
    assert.ok(Math.abs(info + (clean['jacobian.labelEnergy.nuisance'] as number) - 1) < 1e-12);
    // Flipped labels lie mostly in the nuisance space: a fraction of their energy is informative, far below the clean labels'.
    assert.ok((someNoise['jacobian.noiseEnergy.information'] as number) < 0.5 * info, 'label noise lies more in the nuisance space');
  });

  it('a model linear in its trained weights decays on each singular direction as (1 − ηλ_s²/n)^τ, through the trainer', () => {
    // f(x) = Σ_j a_j w_jᵀx with a fixed (fixedSigns) and σ linear: the linearization is exact, so the
    // recorded coordinates ⟨u_s, r_τ⟩ must follow the closed form to rounding, which checks the loss's
    // 1/n, the step size the trainer applies and the Jacobian's spectrum together.
    const input: TrialInput = {
      data: { task: 'teacher', inputDim: 6, teacherWidth: 2, n: 40, nTest: 0 },
      model: { hiddenWidths: [30], activation: 'linear', init: 'fixedSigns', initScale: [1, 0.3] },
      training: { loss: 'square', optimizer: 'gd', learningRate: 0.1, stop: { maxSteps: 300 }, record: { pointsPerDecade: 8 } },
      metrics: [{ name: 'jacobian', params: { reference: 'initial', modes: 5 } }],
    };
    const spec = parseTrialSpec(input);
    const result = runTrial(spec);
    const deviations = result.curve.map((p) => p.metrics['jacobian.linearizedDeviation'] as number);
    assert.ok(deviations.length > 10 && deviations.every((d) => typeof d === 'number'));
    assert.ok(Math.max(...deviations) < 1e-9, `max relative deviation ${Math.max(...deviations)}`);
    const modes = result.series.filter((x) => x.name === 'jacobian.residualModes');
    const first = modes[0].values;
    const last = modes[modes.length - 1].values;
    assert.ok(Math.abs(last[0]) < 0.5 * Math.abs(first[0]), 'the top direction decays');
    // A layer-wise rate breaks the plain-gradient premise: no prediction is made.
    const layered = runTrial(parseTrialSpec({ ...input, training: { ...input.training, layerLearningRates: [1, 2] }, model: { ...input.model, init: 'gaussian' } }));
    assert.equal(layered.final.metrics['jacobian.linearizedDeviation'], undefined);
  });

  it('residuals split on the final Jacobian equal the live split when the Jacobian cannot move, and the rank cutoff keeps the top k', () => {
    // Linear in its trained weights (output weights fixed): J is the same at every step, so the split of each
    // kept residual on the final J must equal the split recorded live on the initial J.
    const spec = parseTrialSpec({
      data: { task: 'teacher', inputDim: 6, teacherWidth: 2, n: 40, nTest: 0 },
      model: { hiddenWidths: [30], activation: 'linear', init: 'fixedSigns', initScale: [1, 0.3] },
      training: { loss: 'square', optimizer: 'gd', learningRate: 0.1, stop: { maxSteps: 200 }, record: { pointsPerDecade: 6 } },
      metrics: [{ name: 'jacobian', params: { reference: 'initial', cutoff: 'rank', rank: 3, residualOnFinal: true, topK: [3] } }],
    });
    const result = runTrial(spec);
    const final = result.final.metrics;
    assert.equal(final['jacobian.informationRank'], 3);
    assert.equal(final['jacobian.final.informationRank'], 3);
    assert.ok(Math.abs((final['jacobian.final.labelEnergy.top3'] as number) - (final['jacobian.final.labelEnergy.information'] as number)) < 1e-12);
    const series = (name: string) => result.series.find((x) => x.name === name)?.values ?? [];
    const steps = Array.from(series('jacobian.onFinal.steps'));
    const information = series('jacobian.onFinal.residual.information');
    const nuisance = series('jacobian.onFinal.residual.nuisance');
    const live = result.curve.filter((p) => typeof p.metrics['jacobian.residual.information'] === 'number');
    assert.ok(steps.length >= 5 && steps.length === information.length && steps.length === nuisance.length, `${steps.length} kept residuals`);
    for (const point of live) {
      const at = steps.indexOf(point.step);
      assert.ok(at >= 0, `step ${point.step} kept`);
      assert.ok(Math.abs(information[at] - (point.metrics['jacobian.residual.information'] as number)) < 1e-9, `information part at step ${point.step}`);
      assert.ok(Math.abs(nuisance[at] - (point.metrics['jacobian.residual.nuisance'] as number)) < 1e-9, `nuisance part at step ${point.step}`);
    }
    assert.ok(information[information.length - 1] < 0.5 * information[0], 'the information part is fitted');
    assert.throws(() => parseTrialSpec({ metrics: [{ name: 'jacobian', params: { cutoff: 'rank', rank: 0 } }] }), /metrics\.0\.params\.rank/);
  });

  it('a wide ReLU net from a large init follows the linearized decay closely, a small init does not', () => {
    const deviation = (initScale: number, learningRate: number) => {
      const spec = parseTrialSpec({
        data: { task: 'teacher', inputDim: 5, teacherWidth: 2, n: 40, nTest: 0, inputs: 'sphere' },
        model: { hiddenWidths: [400], init: 'fixedSigns', initScale: [initScale, 1 / Math.sqrt(400)] },
        training: { loss: 'square', learningRate, stop: { maxSteps: 200 } },
        metrics: [{ name: 'jacobian', params: { reference: 'initial', modes: 3 } }],
      });
      return runTrial(spec).final.metrics['jacobian.linearizedDeviation'] as number;
    };
    const lazy = deviation(1, 5);
    const rich = deviation(0.01, 5);
    // Measured: 0.001 against 0.029 (the small init's activation pattern moves with its weights).
    assert.ok(lazy < 0.01 && rich > 5 * lazy, `lazy ${lazy}, rich ${rich}`);
  });

  it('a net that diverges is stored as diverged, its metrics null, never as failed', () => {
    const spec = parseTrialSpec({
      data: { task: 'teacher', n: 100, nTest: 200 },
      model: { hiddenWidths: [50] },
      training: { loss: 'square', learningRate: 100, stop: { maxSteps: 2000 } },
      metrics: [{ name: 'features' }, { name: 'jacobian' }, { name: 'kernel' }],
    });
    const r = runTrial(spec);
    assert.equal(r.status, 'diverged');
    for (const v of Object.values(r.final.metrics)) assert.ok(v === null || Number.isFinite(v));
  });

  it('degenerate states give null values, never NaN, and the trial completes', () => {
    const spec = parseTrialSpec({
      data: { task: 'teacher', inputDim: 3, n: 20, nTest: 20 },
      model: { hiddenWidths: [8], initScale: [0, 0] },
      training: { stop: { maxSteps: 3 } },
      metrics: [{ name: 'neurons' }, { name: 'layers' }, { name: 'features' }, { name: 'kernel' }],
    });
    const r = runTrial(spec);
    assert.equal(r.status, 'completed');
    const text = JSON.stringify(r);
    assert.equal(text.includes('NaN'), false);
    assert.equal(r.curve[0].metrics['layer0.distanceFromInit'], null);
    assert.equal(r.curve[0].metrics['neurons.distinctDirections'], 0);
  });

  it('the spec rejects an unknown metric and bad parameters, naming the field', () => {
    assert.throws(() => parseTrialSpec({ metrics: [{ name: 'entropy' }] }), (e: Error) => e instanceof SpecError && /metrics\.0\.name/.test(e.message));
    assert.throws(() => parseTrialSpec({ metrics: [{ name: 'jacobian', params: { relativeCutoff: 2 } }] }), /metrics\.0\.params\.relativeCutoff/);
    assert.throws(() => parseTrialSpec({ metrics: [{ name: 'kernel', params: { sample: 3 } }] }), /metrics\.0\.params\.sample: unknown field/);
  });
  it('weights: a residual CNN moves 0 at init, its norm is linear in the init scale, and both read all stored parameters', () => {
    const spec = (initScale: number, maxSteps: number) =>
      parseTrialSpec({
        seed: 5,
        model: { family: 'cnn', architecture: 'resnet8', widthMultiplier: 0.25, initScale },
        data: { task: 'images', images: { side: 8, classes: 2 }, n: 24, nTest: 8 },
        training: { loss: 'logistic', learningRate: 0.1, stop: { maxSteps } },
        metrics: [{ name: 'weights', at: 'final' }],
      });
    const norms = [0.5, 2].map((scale) => {
      const { model, results } = runEnsembleTrial(spec(scale, 0));
      const m = results[0].final.metrics;
      assert.equal(m.distanceFromInit, 0);
      const stored = Math.hypot(...model.parameters(0));
      // standard parametrization: the stored values are the effective ones.
      assert.ok(Math.abs((m.weightNorm as number) - stored) < 1e-12 * stored, `${m.weightNorm} against ${stored}`);
      return m.weightNorm as number;
    });
    assert.ok(Math.abs(norms[1] / norms[0] - 4) < 1e-12, `norm ratio ${norms[1] / norms[0]}`);
    const { model, results } = runEnsembleTrial(spec(1, 20));
    const [theta, theta0] = [model.parameters(0), model.initialParameters(0)];
    const expected = Math.hypot(...theta.map((v, i) => v - theta0[i])) / Math.hypot(...theta0);
    const measured = results[0].final.metrics.distanceFromInit as number;
    assert.ok(expected > 1e-3 && Math.abs(measured - expected) < 1e-12 * expected, `${measured} against ${expected}`);
    assert.equal(typeof results[0].final.metrics['layer9.norm'], 'number', 'every weight layer (10 in resnet8, the projections counted)');
  });
});
