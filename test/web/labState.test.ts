import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { DEFAULT_LAB_STATE, KNOBS, LabStateError, comparedState, labStateOfTrial, labStateParams, labTrialInput, parseLabState, readComparison, readLabState, type LabState } from '../../src/web/lab/labState.js';

describe('lab state', () => {
  it('round-trips every knob through the URL', () => {
    const state: LabState = { ...DEFAULT_LAB_STATE, toy: 'linear1d', width: 7, activation: 'tanh', parametrization: 'muP', initScale: 0.003, outputScale: 250, learningRate: 0.02, rateFirst: 0.5, rateSecond: 4, noise: 0.1, n: 33, teachers: 3, bias: true, centerOutput: true, rateWithStrength: true, loss: 'square', optimizer: 'adam', batchSize: 8, init: 'balanced', seed: 9 };
    const params = labStateParams(state);
    assert.deepEqual([...params.keys()].sort(), KNOBS.map((k) => k.key).sort());
    assert.deepEqual(parseLabState(new URLSearchParams(params.toString())), state);
  });

  it('names the field and the allowed values of a bad link', () => {
    const problems = (() => {
      try {
        parseLabState(new URLSearchParams('toy=spiral&width=0&bias=yes&initScale=abc&colour=red'));
        return [];
      } catch (e) {
        assert.ok(e instanceof LabStateError);
        return e.problems;
      }
    })();
    assert.equal(problems.length, 5);
    assert.ok(problems.some((p) => /^toy: got "spiral"; allowed: teacher, xor, separable, linear1d$/.test(p)));
    assert.ok(problems.some((p) => /^width: got "0"; allowed: an integer from 1 to 1000$/.test(p)));
    assert.ok(problems.some((p) => /^bias: got "yes"; allowed: true, false$/.test(p)));
    assert.ok(problems.some((p) => /^initScale: got "abc"/.test(p)));
    assert.ok(problems.some((p) => /^colour: unknown setting/.test(p)));
  });

  it('reads a side-by-side comparison from the link and names what it may change', () => {
    const { state, comparison, problems } = readLabState(new URLSearchParams('width=30&compare=initScale:0.01'));
    assert.deepEqual(problems, []);
    assert.deepEqual(comparison, { key: 'initScale', value: 0.01 });
    assert.deepEqual(comparedState(state, comparison), { ...state, initScale: 0.01 });
    assert.equal(labStateParams(state, comparison).get('compare'), 'initScale:0.01');
    assert.equal(readComparison('optimizer:adam').comparison?.value, 'adam');
    // The data and the seed are shared by both runs; values are checked as the knob's own.
    assert.match(readComparison('seed:3').problem ?? '', /^compare: got "seed:3"; allowed: knob:value with a knob of width, activation, /);
    assert.equal(readComparison('initScale:abc').problem, 'compare: initScale: got "abc"; allowed: a number from 0.0001 to 10');
    assert.deepEqual(readLabState(new URLSearchParams('compare=bias')).problems.length, 1);
  });

  it('keeps the good knobs of a partly bad link and defaults the bad ones', () => {
    const { state, problems } = readLabState(new URLSearchParams('toy=xor&width=0&seed=5'));
    assert.deepEqual(state, { ...DEFAULT_LAB_STATE, toy: 'xor', seed: 5 });
    assert.deepEqual(problems, ['width: got "0"; allowed: an integer from 1 to 1000']);
  });

  it('maps to a valid trial spec and back', () => {
    const state: LabState = { ...DEFAULT_LAB_STATE, toy: 'xor', width: 12, noise: 0.2, rateSecond: 3, centerOutput: true, rateWithStrength: true };
    const spec = parseTrialSpec(labTrialInput(state, 100));
    assert.equal(spec.data.task, 'xor');
    assert.equal(spec.model.centerOutput, true);
    assert.equal(spec.training.learningRateScaling, 'strength');
    // The defaults add nothing to the spec (stored trial ids of earlier exports stay the same).
    assert.equal(parseTrialSpec(labTrialInput(DEFAULT_LAB_STATE, 100)).training.learningRateScaling, undefined);
    assert.equal(spec.data.labelNoise.flip, 0.2);
    assert.deepEqual(spec.training.layerLearningRates, [1, 3]);
    const back = labStateOfTrial(spec);
    assert.ok('state' in back);
    assert.deepEqual(back.state, state);
    assert.deepEqual(back.notes, []);
  });

  it('maps the optimizer, batch size, loss and init scheme to the spec and back', () => {
    const cases: [Partial<LabState>, Record<string, unknown>][] = [
      [{ optimizer: 'sgd', batchSize: 16 }, { optimizer: 'sgd', batchSize: 16 }],
      // sgd never takes more than n points; adam at n or above is full batch.
      [{ optimizer: 'sgd', batchSize: 500, n: 100 }, { optimizer: 'sgd', batchSize: 100 }],
      [{ optimizer: 'adam', batchSize: 10 }, { optimizer: 'adam', batchSize: 10 }],
      [{ optimizer: 'adam', batchSize: 100, n: 100 }, { optimizer: 'adam', batchSize: undefined }],
      [{ optimizer: 'gd', batchSize: 10 }, { optimizer: 'gd', batchSize: undefined }],
    ];
    for (const [change, expected] of cases) {
      const spec = parseTrialSpec(labTrialInput({ ...DEFAULT_LAB_STATE, ...change }, 10));
      assert.deepEqual({ optimizer: spec.training.optimizer, batchSize: spec.training.batchSize }, expected, JSON.stringify(change));
    }
    const state: LabState = { ...DEFAULT_LAB_STATE, toy: 'separable', loss: 'square', optimizer: 'adam', batchSize: 20, init: 'fixedSigns' };
    const spec = parseTrialSpec(labTrialInput(state, 10));
    assert.deepEqual([spec.training.loss, spec.model.init], ['square', 'fixedSigns']);
    const back = labStateOfTrial(spec);
    assert.ok('state' in back);
    assert.deepEqual(back.state, state);
    // The 1D regression toy trains the square loss whatever the loss knob says.
    assert.equal(parseTrialSpec(labTrialInput({ ...DEFAULT_LAB_STATE, toy: 'linear1d', loss: 'logistic' }, 10)).training.loss, 'square');
  });

  it('says why a stored trial cannot open in the lab', () => {
    const spec = parseTrialSpec({ data: { task: 'parity', inputDim: 5 }, model: { hiddenWidths: [10, 10] } });
    const result = labStateOfTrial(spec);
    assert.ok('problems' in result);
    assert.equal(result.problems.length, 3);
    const wide = labStateOfTrial(parseTrialSpec({ data: { task: 'teacher', inputDim: 2 }, model: { hiddenWidths: [5000] }, training: { optimizer: 'adam' } }));
    assert.ok('problems' in wide && /^width: got "5000"/.test(wide.problems[0]));
    const flow = labStateOfTrial(parseTrialSpec({ data: { task: 'line1d', inputDim: 2, labels: 'value' }, model: { hiddenWidths: [5] }, training: { optimizer: 'gradientFlow', loss: 'square' } }));
    assert.ok('state' in flow && /gradient descent at the first step size \(this trial integrated the gradient flow\)/.test(flow.notes[0]));
    const tenClasses = labStateOfTrial(parseTrialSpec({ data: { task: 'teacher', inputDim: 2 }, model: { hiddenWidths: [5] }, training: { loss: 'crossEntropy' } }));
    assert.ok('state' in tenClasses && /the lab uses the logistic loss on teacher \(this trial used crossEntropy\)/.test(tenClasses.notes[0]));
  });
});
