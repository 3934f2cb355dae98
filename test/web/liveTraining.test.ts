import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { parseExperiment } from '../../src/experiments/experimentSpec.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { DEFAULT_LAB_STATE, type LabState } from '../../src/web/lab/labState.js';
import { LiveTraining } from '../../src/web/lab/liveTraining.js';
import { expectAllClose } from '../helpers.js';

const backend = new TsBackend();

describe('live lab training', () => {
  it('chunks of gradient descent give the numbers of the exported spec run by the runner', () => {
    const state: LabState = { ...DEFAULT_LAB_STATE, toy: 'xor', width: 12, n: 40, learningRate: 0.5, initScale: 0.5, seed: 3 };
    const live = new LiveTraining(state, backend);
    const first = live.advance(0);
    for (const chunk of [7, 1, 30, 12]) live.advance(chunk);
    assert.equal(live.step, 50);
    const last = live.snapshot();
    assert.ok((last.trainLoss as number) < (first.trainLoss as number), 'the loss goes down');

    const [trial] = parseExperiment(live.exportSpec()).trials;
    assert.equal(trial.spec.training.stop.maxSteps, 50);
    const result = runTrial(trial.spec, { backend });
    assert.equal(result.steps, 50);
    expectAllClose([last.trainLoss as number, last.testLoss as number], [result.final.trainLoss as number, result.final.testLoss as number], { rtol: 1e-12 }, 'losses');
  });

  for (const change of [{ optimizer: 'adam', batchSize: 16, learningRate: 0.02 }, { optimizer: 'sgd', batchSize: 8, loss: 'square', init: 'balanced' }] as const)
    it(`chunks of ${change.optimizer} on minibatches give the numbers of the exported spec run by the runner`, () => {
      const live = new LiveTraining({ ...DEFAULT_LAB_STATE, toy: 'teacher', width: 10, n: 40, seed: 2, ...change }, backend);
      for (const chunk of [3, 1, 11, 25]) live.advance(chunk);
      const last = live.snapshot(4);
      const [trial] = parseExperiment(live.exportSpec()).trials;
      assert.equal(trial.spec.training.optimizer, change.optimizer);
      const result = runTrial(trial.spec, { backend });
      assert.equal(result.steps, 40);
      expectAllClose([last.trainLoss as number, last.testLoss as number], [result.final.trainLoss as number, result.final.testLoss as number], { rtol: 1e-12 }, 'losses');
    });

  it('a learning-rate change mid-run carries on from the current weights and is named in the export', () => {
    const state: LabState = { ...DEFAULT_LAB_STATE, n: 30, width: 8 };
    const a = new LiveTraining(state, backend);
    a.advance(20);
    const before = a.model.parameters(0);
    a.setLearningRates(0.05, 1, 2);
    a.advance(1);
    const moved = a.model.parameters(0);
    assert.ok(moved.some((v, i) => v !== before[i]));
    assert.equal(a.step, 21);
    assert.match(String(a.exportSpec().description), /at step 20 the learning rate became 0\.05/);
  });

  it('draws neurons, the boundary grid and the alignment numbers of a 2D net', () => {
    const live = new LiveTraining({ ...DEFAULT_LAB_STATE, toy: 'teacher', teachers: 2, width: 10, n: 50 }, backend);
    live.advance(5);
    const s = live.snapshot(16);
    assert.equal(s.neurons.wx.length, 10);
    assert.equal(s.neurons.outputWeight.length, 10);
    assert.equal(s.boundary.values.length, 256);
    assert.ok(s.boundary.values.every(Number.isFinite));
    // The boundary's grid evaluates f itself: its value at a data point's cell matches a forward pass.
    const data = live.data();
    assert.equal(data.x.length, 50);
    assert.equal(data.directions.length, 2);
    assert.ok(typeof s.measures['neurons.distinctDirections'] === 'number');
    assert.ok(typeof s.measures.distanceFromInit === 'number' && s.measures.distanceFromInit > 0);
  });

  for (const [parametrization, outputScale] of [['standard', 1], ['meanField', 2]] as const) {
    it(`the 1D linear toy follows the closed form (${parametrization}, α = ${outputScale})`, () => {
      const state: LabState = { ...DEFAULT_LAB_STATE, toy: 'linear1d', activation: 'linear', width: 6, n: 20, initScale: 0.3, outputScale, parametrization, learningRate: 1e-3, rateFirst: 0.5, rateSecond: 2, noise: 0 };
      const live = new LiveTraining(state, backend);
      const solution = live.theory();
      assert.ok(solution, 'a closed form exists for the linear 1D toy');
      const outputs: number[] = [];
      const predicted: number[] = [];
      for (let i = 0; i < 5; i++) {
        live.advance(400);
        const s = live.snapshot(4);
        outputs.push(s.measures['point.output'] as number);
        predicted.push(solution.at(s.time).output);
      }
      // Gradient descent with η = 1e-3 against the flow: first-order error.
      expectAllClose(outputs, predicted, { rtol: 2e-3, atol: 2e-4 }, 'f(t)');
      assert.ok(Math.abs(outputs[4] - outputs[0]) > 0.05, 'the output moved');
    });
  }
});
