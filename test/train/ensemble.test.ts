import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec, type TrialInput } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial, type MemberOverride } from '../../src/experiments/trial.js';
import type { MemberResult } from '../../src/train/records.js';

const members: MemberOverride[] = [
  { initSeed: 1, initScale: 0.5, outputScale: 1, learningRate: 0.3 },
  { initSeed: 2, initScale: 1, outputScale: 0.5, learningRate: 0.1 },
  { initSeed: 3, initScale: [2, 0.5], outputScale: 2, learningRate: 0.5 },
];

function spec(training: TrialInput['training']) {
  return parseTrialSpec({
    seed: 4,
    model: { hiddenWidths: [20], activation: 'relu', bias: true },
    data: { task: 'teacher', inputDim: 3, teacherWidth: 2, n: 40, nTest: 50 },
    training,
  });
}

/** Everything but the wall-clock seconds. */
function numbers(r: MemberResult) {
  return { ...r, seconds: 0 };
}

describe('an ensemble of K models trains exactly like K models alone', () => {
  const cases: [string, TrialInput['training']][] = [
    ['gd', { optimizer: 'gd', stop: { maxSteps: 300, targetTrainRisk: 0.2 } }],
    ['sgd', { optimizer: 'sgd', batchSize: 8, stop: { maxSteps: 120, targetTrainRisk: 0.25 } }],
    ['adam', { optimizer: 'adam', learningRate: 0.01, stop: { maxSteps: 150, targetTrainRisk: 0.2 } }],
    ['gradientFlow', { optimizer: 'gradientFlow', loss: 'logistic', stop: { maxSteps: 400, maxTime: 30, targetTrainRisk: 0.2 } }],
  ];
  for (const [name, training] of cases)
    it(name, () => {
      const s = spec(training);
      const together = runEnsembleTrial(s, members);
      const alone = members.map((m) => runEnsembleTrial(s, [m]).results[0]);
      together.results.forEach((r, k) => assert.deepEqual(numbers(r), numbers(alone[k]), `member ${k}`));
      const parametersAlone = members.map((m) => runEnsembleTrial(s, [m]).model.parameters(0));
      members.forEach((_, k) => assert.deepEqual(together.model.parameters(k), parametersAlone[k]));
      // Members stopped at different steps: the masking was exercised.
      assert.ok(new Set(together.results.map((r) => r.steps)).size > 1, `steps ${together.results.map((r) => r.steps)}`);
    });
});
