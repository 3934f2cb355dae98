import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec, type TrialInput } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';

const T = 3;

/** Two-layer linear net on 1D data (Xu & Ziyin's setting), small init so features are learned. */
function lineSpec(training: TrialInput['training']) {
  return parseTrialSpec({
    seed: 2,
    model: { hiddenWidths: [20], activation: 'linear', initScale: [0.3, 0.3] },
    data: { task: 'line1d', inputDim: 6, labels: 'value', n: 20, nTest: 0, slope: 1.5 },
    training: { loss: 'square', ...training },
  });
}

function finalParameters(training: TrialInput['training']): { theta: Float64Array; steps: number; time: number } {
  const { model, results } = runEnsembleTrial(lineSpec(training));
  return { theta: model.parameters(0), steps: results[0].steps, time: results[0].time };
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

function norm(a: Float64Array): number {
  return Math.sqrt(a.reduce((s, v) => s + v * v, 0));
}

describe('gradient-flow integrator', () => {
  const reference = finalParameters({ optimizer: 'gradientFlow', gradientFlow: { tolerance: 1e-11 }, stop: { maxSteps: 1e6, maxTime: T } });

  it('lands exactly on maxTime and moves the parameters far from their start', () => {
    assert.equal(reference.time, T);
    const start = runEnsembleTrial(lineSpec({ stop: { maxSteps: 0 } })).model.parameters(0);
    assert.ok(distance(reference.theta, start) > 0.5 * norm(start));
  });

  it('GD with a small step tracks it, with first-order error in the step', () => {
    const errorAt = (eta: number) => distance(finalParameters({ optimizer: 'gd', learningRate: eta, stop: { maxSteps: Math.round(T / eta) } }).theta, reference.theta) / norm(reference.theta);
    const coarse = errorAt(2e-3);
    const fine = errorAt(1e-3);
    // Stated tolerance: relative distance below 1e-4 at η = 1e-3 (measured 6.5e-5), and halving η halves it (±20%).
    assert.ok(fine < 1e-4, `relative error ${fine}`);
    assert.ok(fine / coarse > 0.4 && fine / coarse < 0.6, `ratio ${fine / coarse}`);
  });

  it('halving the tolerance shrinks the error, and takes more steps', () => {
    const run = (tolerance: number) => finalParameters({ optimizer: 'gradientFlow', gradientFlow: { tolerance }, stop: { maxSteps: 1e6, maxTime: T } });
    const loose = run(1e-5);
    const tight = run(5e-6);
    const looseError = distance(loose.theta, reference.theta) / norm(reference.theta);
    const tightError = distance(tight.theta, reference.theta) / norm(reference.theta);
    assert.ok(tightError < 0.7 * looseError, `errors ${looseError} → ${tightError}`);
    assert.ok(looseError < 1e-3, `error ${looseError} at tolerance 1e-5`);
    assert.ok(tight.steps > loose.steps);
    // Far fewer steps than GD needs for the same time at a comparable accuracy.
    assert.ok(loose.steps < T / 1e-3 / 10, `steps ${loose.steps}`);
  });
});
