import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyProfile, loadExperimentFile, parseExperiment, experimentJsonSchema } from '../../src/experiments/experimentSpec.js';
import { SpecError } from '../../src/experiments/trialSpec.js';
import { canonicalJson } from '../../src/experiments/canonicalJson.js';
import { trialId } from '../../src/experiments/trialId.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { tempDir, writeSpec } from '../run/fixtures.js';

function problemsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  assert.fail('expected a SpecError');
}

describe('experiment spec expansion', () => {
  it('a null in a profile’s base removes the field the spec’s base sets', () => {
    const spec = { name: 'x', base: { data: { n: 8, nTest: 4, labelNoise: { flip: 0.25 } }, training: { stop: { maxSteps: 50, targetTrainRisk: 0.1 } } }, profiles: { clean: { base: { data: { labelNoise: null }, training: { stop: { targetTrainRisk: null } } } } } };
    const [t] = parseExperiment(applyProfile(spec, 'clean')).trials;
    assert.equal(t.spec.data.labelNoise.flip, 0);
    assert.equal(t.spec.training.stop.targetTrainRisk, undefined);
    assert.equal(t.spec.training.stop.maxSteps, 50);
  });

  it('a profile or part whose model names another family replaces the model; one of the same family merges into it', () => {
    const spec = {
      name: 'x',
      base: { model: { hiddenWidths: [7], activation: 'tanh' }, data: { task: 'images', images: { side: 4 }, n: 8, nTest: 4 } },
      profiles: {
        deep: { base: { model: { family: 'cnn', architecture: 'cnn5' } }, parts: [{ name: 'a' }, { name: 'b', base: { model: { family: 'mlp', hiddenWidths: [3] } } }] },
        wider: { base: { model: { hiddenWidths: [9] } } },
      },
    };
    const [cnn, mlp] = parseExperiment(applyProfile(spec, 'deep')).trials.map((t) => t.spec.model);
    assert.equal(cnn.family, 'cnn');
    assert.equal(cnn.activation, 'relu', 'the MLP base’s activation is not carried into the CNN');
    assert.deepEqual([mlp.family, mlp.activation], ['mlp', 'relu']);
    const [wider] = parseExperiment(applyProfile(spec, 'wider')).trials.map((t) => t.spec.model);
    assert.deepEqual([wider.family ?? 'mlp', wider.activation, 'hiddenWidths' in wider && wider.hiddenWidths], ['mlp', 'tanh', [9]]);
  });

  it('expands a grid (last axis fastest), then zip, then seeds', () => {
    const { trials } = parseExperiment({
      name: 'x',
      sweep: { grid: { 'model.outputScale': [1, 2], 'data.n': [10, 20] }, zip: { 'model.initScale': [0.1, 0.2], 'training.learningRate': [0.3, 0.4] }, seeds: [5, 6] },
    });
    assert.equal(trials.length, 2 * 2 * 2 * 2);
    assert.deepEqual(trials[0].point, { 'model.outputScale': 1, 'data.n': 10, 'model.initScale': 0.1, 'training.learningRate': 0.3, seed: 5 });
    assert.deepEqual(trials[1].point, { 'model.outputScale': 1, 'data.n': 10, 'model.initScale': 0.1, 'training.learningRate': 0.3, seed: 6 });
    assert.deepEqual(trials[2].point['model.initScale'], 0.2);
    assert.deepEqual(trials[4].point['data.n'], 20);
    assert.equal(trials[15].spec.model.outputScale, 2);
    assert.equal(trials[15].spec.seed, 6);
    assert.deepEqual(trials.map((t) => t.position), Array.from({ length: 16 }, (_, i) => i));
    assert.equal(new Set(trials.map((t) => t.id)).size, 16);
  });

  it('draws random axes reproducibly within their ranges', () => {
    const spec = { name: 'r', sweep: { random: { count: 50, seed: 3, axes: { 'training.learningRate': { logUniform: [1e-3, 1] }, 'model.activation': { choice: ['relu', 'tanh'] } } } } };
    const a = parseExperiment(spec).trials;
    assert.deepEqual(a.map((t) => t.id), parseExperiment(spec).trials.map((t) => t.id));
    const rates = a.map((t) => t.spec.training.learningRate);
    assert.ok(rates.every((r) => r >= 1e-3 && r <= 1));
    assert.ok(rates.some((r) => r < 1e-2) && rates.some((r) => r > 1e-1), 'spread over the decades');
    assert.deepEqual(new Set(a.map((t) => t.spec.model.activation)), new Set(['relu', 'tanh']));
  });

  it('seeds as a count are 0..count−1; no sweep is one trial', () => {
    assert.deepEqual(parseExperiment({ name: 's', sweep: { seeds: 3 } }).trials.map((t) => t.spec.seed), [0, 1, 2]);
    assert.equal(parseExperiment({ name: 'one' }).trials.length, 1);
  });
});

describe('trial ids', () => {
  it('do not depend on key order, number spelling or spelled-out defaults', () => {
    const a = parseTrialSpec({ model: { outputScale: 1.0, hiddenWidths: [100] }, training: { learningRate: 0.001 } });
    const b = parseTrialSpec({ training: { learningRate: 1e-3 }, model: { hiddenWidths: [100], activation: 'relu', outputScale: 1 } });
    assert.equal(trialId(a), trialId(b));
    assert.notEqual(trialId(a), trialId(parseTrialSpec({ training: { learningRate: 0.002 } })));
    assert.equal(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }), '{"a":[2,{"c":2,"d":1}],"b":1}');
  });
});

describe('malformed experiment specs', () => {
  const dir = tempDir();
  const cases: [string, string, RegExp][] = [
    ['wrong type', 'name: t\nsweep:\n  seeds: three\n', /sweep\.seeds: .*"three"/],
    ['unknown top-level field', 'name: t\nsweeps: {}\n', /sweeps: unknown field/],
    ['unknown base field', 'name: t\nbase:\n  model:\n    widht: 3\n', /base\.model\.widht: unknown field/],
    ['empty sweep axis', 'name: t\nsweep:\n  grid:\n    model.outputScale: []\n', /sweep\.grid\.model\.outputScale: an axis needs at least one value/],
    ['bad sweep path', 'name: t\nsweep:\n  grid:\n    model.widht: [1, 2]\n', /sweep model\.widht = 1: model\.widht: unknown field/],
    ['negative size', 'name: t\nsweep:\n  grid:\n    data.n: [10, -5]\n', /sweep data\.n = -5: data\.n: .*-5/],
    ['enum value', 'name: t\nsweep:\n  grid:\n    model.activation: [relu, mish]\n', /sweep model\.activation = "mish": model\.activation: got "mish"; allowed: linear, relu/],
    ['zip lengths', 'name: t\nsweep:\n  zip:\n    data.n: [1, 2]\n    seed: [1]\n', /sweep\.zip: every axis needs the same number of values/],
    ['missing name', 'base: {}\n', /name: .*nothing/],
    ['bad name', 'name: "my exp"\n', /name: /],
    ['YAML syntax', 'name: t\nsweep:\n  grid: [1, 2\n', /YAML syntax error at line \d+, column \d+/],
    ['not an object', '- 1\n- 2\n', /an experiment is an object/],
  ];
  cases.forEach(([what, text, pattern], i) =>
    it(`${what}: its own clear message naming the file and the field`, () => {
      const file = writeSpec(dir, text, `case${i}.yaml`);
      const problems = problemsOf(() => loadExperimentFile(file));
      assert.ok(problems.some((p) => pattern.test(p)), problems.join('\n'));
      assert.ok(problems.every((p) => p.startsWith(`${file}: `)));
    }),
  );

  it('reports every problem at once', () => {
    const problems = problemsOf(() => parseExperiment({ name: 't', base: { model: { activation: 'x', colour: 1 }, data: { n: 0 } } }));
    assert.equal(problems.length, 3, problems.join('\n'));
  });

  it('a JSON file with a syntax error', () => {
    const file = writeSpec(dir, '{"name": "t",', 'broken.json');
    assert.match(problemsOf(() => loadExperimentFile(file))[0], /not valid JSON/);
  });

  it('exports JSON Schema with the trial schema as base, the model one of the families', () => {
    type Family = { properties: { family: { const: string }; activation: { enum: string[] } } };
    const schema = experimentJsonSchema() as { properties: { base: { properties: { model: { oneOf: Family[] } } } } };
    const families = schema.properties.base.properties.model.oneOf;
    assert.deepEqual(families.map((f) => f.properties.family.const), ['mlp', 'cnn']);
    for (const f of families) assert.ok(f.properties.activation.enum.includes('swish'));
  });
});
