import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { defaultLimits, trialProblems } from '../../src/experiments/feasibility.js';

function lineTrial(model: Record<string, unknown>) {
  return parseTrialSpec({
    model: { hiddenWidths: [20], activation: 'linear', ...model },
    data: { task: 'line1d', inputDim: 6, labels: 'value', n: 30, nTest: 0 },
    training: { loss: 'square', optimizer: 'gd', learningRate: 0.01, stop: { maxSteps: 0 } },
    metrics: [{ name: 'layers' }],
  });
}

describe('model.effectiveInit', () => {
  const point = { outputNorm: 0.7, hiddenNorm: 2.5, alignment: -0.3 };
  for (const extra of [{}, { outputScale: 2 }, { parametrization: 'meanField' }, { parametrization: 'ntk', initScale: 3 }])
    it(`puts the net at the asked effective point, as the layers metric measures it (${JSON.stringify(extra)})`, () => {
      const m = runTrial(lineTrial({ ...extra, effectiveInit: point })).final.metrics;
      assert.ok(Math.abs((m['point.outputNorm'] as number) - 0.7) < 1e-12, String(m['point.outputNorm']));
      assert.ok(Math.abs((m['point.hiddenNorm'] as number) - 2.5) < 1e-12, String(m['point.hiddenNorm']));
      assert.ok(Math.abs((m.alignmentAngle as number) + 0.3) < 1e-12, String(m.alignmentAngle));
      // f = ζ‖αu‖‖h‖ at the effective point.
      assert.ok(Math.abs((m['point.output'] as number) - -0.3 * 0.7 * 2.5) < 1e-12);
    });

  it('two init seeds draw different nets at one effective point, and they train the same f(t) (Proposition 1)', () => {
    const trained = (initSeed: number) => {
      const spec = lineTrial({ effectiveInit: point, initSeed });
      return runTrial({ ...spec, training: { ...spec.training, stop: { ...spec.training.stop, maxSteps: 300 } } });
    };
    const [a, b] = [trained(1), trained(2)];
    const [start, endA, endB] = [a.curve[0].trainLoss, a.final.trainLoss, b.final.trainLoss] as number[];
    assert.ok(Math.abs(endA - endB) < 1e-10 * start, `${endA} vs ${endB}`);
    assert.ok(endA < 0.5 * start, 'it trained');
  });

  it('is refused before anything runs where it has no meaning', () => {
    const problems = (model: Record<string, unknown>, data: Record<string, unknown> = {}) =>
      trialProblems(parseTrialSpec({ model: { hiddenWidths: [20], effectiveInit: point, ...model }, data: { task: 'line1d', ...data }, training: { loss: 'square' } }), defaultLimits());
    assert.deepEqual(problems({}), []);
    assert.match(problems({}, { task: 'teacher' }).join('\n'), /model\.effectiveInit: needs data\.task line1d/);
    assert.match(problems({ bias: true }).join('\n'), /model\.effectiveInit: needs model\.bias: false/);
    assert.match(problems({ hiddenWidths: [5, 5] }).join('\n'), /needs one hidden layer/);
    assert.match(problems({ hiddenWidths: [1] }).join('\n'), /width 1 has alignment −1 or 1 only/);
  });
});
