import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { concatFeatures, featureSpanFit } from '../../src/metrics/features.js';
import { firstRows } from '../../src/metrics/matrixOps.js';
import { asMlp } from '../../src/models/mlp/spec.js';

const input = {
  seed: 3,
  model: { hiddenWidths: [8], activation: 'relu', bias: true },
  data: { task: 'teacher', inputDim: 5, teacherWidth: 3, n: 80, nTest: 60 },
  training: { loss: 'logistic', optimizer: 'gd', learningRate: 0.5, stop: { maxSteps: 150 } },
  comparison: { widthFraction: 0.5, span: { lambda: [1e-3, 1e-1] }, probe: { penalty: [1e-2, 1], steps: 100 } },
} as const;
const spec = parseTrialSpec(input);

describe('comparison trials', () => {
  const result = runTrial(spec);
  const m = result.final.metrics;

  it('store each FSE, its λ from the grid, the gaps as their differences, the probes and every net’s errors', () => {
    for (const name of ['narrowToWide', 'wideToWide', 'wideToNarrow', 'narrowToNarrow', 'narrowToSingle', 'wideToSingle']) {
      const v = m[`compare.fse.${name}`] as number;
      assert.ok(v >= 0 && v < 2, `${name} = ${v}`);
      assert.ok([1e-3, 1e-1].includes(m[`compare.lambda.${name}`] as number));
    }
    assert.equal(m['compare.gap.wide'], (m['compare.fse.narrowToWide'] as number) - (m['compare.fse.wideToWide'] as number));
    assert.equal(m['compare.gap.narrow'], (m['compare.fse.wideToNarrow'] as number) - (m['compare.fse.narrowToNarrow'] as number));
    for (const name of ['wide', 'narrow', 'narrowWithResidual', 'wideWithResidual']) assert.ok((m[`compare.probe.${name}`] as number) > 0.5, name);
    assert.deepEqual([m['compare.wideWidth'], m['compare.narrowWidth'], m['compare.copies']], [8, 4, 2]);
    const testErrors = result.series.find((s) => s.name === 'compare.testErrors.narrow');
    assert.equal(testErrors?.values.length, 2);
    assert.ok(Math.abs((m['compare.testError.narrow'] as number) - ((testErrors?.values[0] ?? 0) + (testErrors?.values[1] ?? 0)) / 2) < 1e-12);
  });

  it('compares the nets it says: FSE(M₁′ → M₁) and FSE(S → M₁) recomputed from the same nets trained alone', () => {
    const { comparison: _c, ...plain } = spec;
    const wide = runEnsembleTrial({ ...plain, comparison: undefined }, [{ initSeed: 3 }, { initSeed: 3 + 1_000_003 }]);
    const narrow = runEnsembleTrial({ ...plain, comparison: undefined, model: { ...asMlp(spec.model, 'test'), hiddenWidths: [4] } }, [{ initSeed: 3 + 2_000_003 }, { initSeed: 3 + 2_000_004 }]);
    const [train, test] = [firstRows(wide.split.train.inputs, 1000), firstRows(wide.split.test.inputs, 1000)];
    const features = (model: typeof wide.model, k: number) => ({ train: model.features(k, train), test: model.features(k, test) });
    const [m1, m1b] = [features(wide.model, 0), features(wide.model, 1)];
    const s = [features(narrow.model, 0), features(narrow.model, 1)];
    const options = { lambda: [1e-3, 1e-1], centered: true };
    const base = featureSpanFit(wide.model.backend, m1b.train, m1.train, m1b.test, m1.test, options);
    assert.ok(Math.abs(base.error - (m['compare.fse.wideToWide'] as number)) < 1e-9);
    const concat = { train: concatFeatures(s.map((f) => f.train)), test: concatFeatures(s.map((f) => f.test)) };
    const fromNarrow = featureSpanFit(wide.model.backend, concat.train, m1.train, concat.test, m1.test, options);
    assert.ok(Math.abs(fromNarrow.error - (m['compare.fse.narrowToWide'] as number)) < 1e-9);
    // The output ensemble of S: the two narrow nets' margins averaged, then signed.
    const points = narrow.split.test;
    const outputs = narrow.model.forward(points.inputs);
    let wrong = 0;
    for (let i = 0; i < points.inputs.rows; i++) if (Math.sign(outputs[i] + outputs[points.inputs.rows + i]) !== points.targets[i]) wrong++;
    assert.equal(m['compare.testError.narrowEnsemble'], wrong / points.inputs.rows);
  });

  it('stitches: M₁’s last layer on its own features gives its test error exactly (also with f − f₀), and on mapped features of S and M₁′ an error of its own', () => {
    assert.equal(m['compare.stitch.wide'], m['compare.testError.wide']);
    for (const name of ['narrow', 'wideSecond']) {
      const e = m[`compare.stitch.${name}`] as number;
      assert.ok(e >= 0 && e < 0.5, `${name}: ${e}`);
    }
    const centered = runTrial(parseTrialSpec({ ...input, model: { ...input.model, centerOutput: true, outputScale: 2 } })).final.metrics;
    assert.equal(centered['compare.stitch.wide'], centered['compare.testError.wide']);
    const cnn = runTrial(
      parseTrialSpec({ ...input, model: { family: 'cnn', layers: [{ type: 'conv', channels: 4 }, { type: 'dense', units: 8 }], inputShape: [1, 1, 5], outputScale: 0.5 } }),
    ).final.metrics;
    assert.equal(cnn['compare.stitch.wide'], cnn['compare.testError.wide']);
  });

  it('gives the same numbers when run again', () => {
    assert.deepEqual(runTrial(spec).final.metrics, m);
  });
});
