import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec, type TrialInput } from '../../src/experiments/trialSpec.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { effectiveOutputScale, featureLearningStrength, strengthLearningRateFactor } from '../../src/models/strength.js';
import type { RecordPoint } from '../../src/train/records.js';

function trial(model: TrialInput['model'], hiddenWidths: number[] = [40]) {
  return runTrial(
    parseTrialSpec({
      seed: 3,
      model: { hiddenWidths, activation: 'relu', centerOutput: true, ...model },
      data: { task: 'teacher', inputDim: 4, teacherWidth: 2, n: 60, nTest: 200, labelNoise: { flip: 0.1 } },
      training: { loss: 'logistic', learningRate: 0.2, learningRateScaling: 'strength', stop: { maxSteps: 400, targetTrainRisk: 0.3 }, record: { pointsPerDecade: 5 } },
    }),
  );
}

function relativeGap(a: readonly RecordPoint[], b: readonly RecordPoint[]): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i].step, b[i].step);
    const x = a[i].trainLoss as number;
    const y = b[i].trainLoss as number;
    worst = Math.max(worst, Math.abs(x - y) / Math.abs(y));
  }
  return worst;
}

describe('feature learning strength', () => {
  it('is 1/(α·Π λ_l): one scale to the power L, or the product of per-layer scales', () => {
    assert.equal(featureLearningStrength({ initScale: 0.1, outputScale: 1, layers: 2 }), 1 / 0.1 ** 2);
    assert.equal(featureLearningStrength({ initScale: 1, outputScale: 4, layers: 3 }), 0.25);
    assert.equal(effectiveOutputScale({ initScale: [2, 3, 0.5], outputScale: 2, layers: 3 }), 6);
  });

  it('the rate factor is 1 at the standard point and follows the tangent kernel on the lazy side', () => {
    assert.equal(strengthLearningRateFactor({ initScale: 1, outputScale: 1, layers: 2 }), 1);
    assert.equal(strengthLearningRateFactor({ initScale: 0.01, outputScale: 1, layers: 2 }), 1);
    assert.ok(Math.abs(strengthLearningRateFactor({ initScale: 10, outputScale: 1, layers: 2 }) - 1e-2) < 1e-15);
    assert.ok(Math.abs(strengthLearningRateFactor({ initScale: 1, outputScale: 100, layers: 4 }) - 1e-4) < 1e-18);
    assert.ok(Math.abs(strengthLearningRateFactor({ initScale: 1, outputScale: 1e-4, layers: 4 }) - 1e2) < 1e-10);
  });

  // θ = λφ maps GD on θ at rate η to GD on φ at rate η/λ² on α·λ^L·f̃(φ): the two knobs are one dynamics.
  for (const [label, scale, hidden] of [
    ['rich side, two layers', 0.05, [40]],
    ['lazy side, two layers', 4, [40]],
    ['rich side, three layers', 0.3, [20, 20]],
    ['lazy side, three layers', 2, [20, 20]],
  ] as const) {
    it(`init scale λ and output multiplier λ^L train the same trajectory (${label})`, () => {
      const layers = hidden.length + 1;
      const byInit = trial({ initScale: scale }, [...hidden]);
      const byOutput = trial({ outputScale: scale ** layers }, [...hidden]);
      assert.ok(byInit.steps >= 50, `trained ${byInit.steps} steps`);
      assert.equal(byInit.steps, byOutput.steps);
      assert.equal(byInit.stopReason, byOutput.stopReason);
      assert.ok(relativeGap(byInit.curve, byOutput.curve) < 1e-9, String(relativeGap(byInit.curve, byOutput.curve)));
      assert.ok(Math.abs((byInit.final.testLoss as number) - (byOutput.final.testLoss as number)) < 1e-9);
    });
  }

  it('without the co-scaled rate the two knobs differ (the equivalence is the rate rule, not an accident)', () => {
    const base = (model: TrialInput['model']) =>
      runTrial(
        parseTrialSpec({
          seed: 3,
          model: { hiddenWidths: [40], activation: 'relu', ...model },
          data: { task: 'teacher', inputDim: 4, teacherWidth: 2, n: 60, nTest: 200 },
          training: { loss: 'logistic', learningRate: 0.2, stop: { maxSteps: 50 } },
        }),
      );
    const byInit = base({ initScale: 0.3 });
    const byOutput = base({ outputScale: 0.09 });
    assert.ok(relativeGap(byInit.curve, byOutput.curve) > 1e-3);
  });
});
