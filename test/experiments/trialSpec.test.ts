import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec, SpecError } from '../../src/experiments/trialSpec.js';
import { setPath, deepMerge } from '../../src/experiments/paths.js';

function problems(input: unknown): string[] {
  try {
    parseTrialSpec(input);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  assert.fail('expected a SpecError');
}

describe('trial spec', () => {
  it('fills defaults', () => {
    const spec = parseTrialSpec({});
    assert.equal(spec.model.activation, 'relu');
    assert.equal(spec.training.stop.maxSteps, 10000);
    assert.equal(spec.data.labelNoise.flip, 0);
  });

  it('names the field, the value and what is allowed, for every problem at once', () => {
    const lines = problems({ model: { activation: 'relux', hiddenWidths: [-5], outputScale: 0, extra: 1 }, training: { optimizer: 'lbfgs' } });
    assert.equal(lines.length, 5, lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('model.activation: got "relux"; allowed: linear, relu, leakyRelu, sigmoid, tanh, swish')));
    assert.ok(lines.some((l) => l.startsWith('model.hiddenWidths.0:') && l.includes('-5')));
    assert.ok(lines.some((l) => l.startsWith('model.outputScale:') && l.includes('got 0')));
    assert.ok(lines.includes('model.extra: unknown field'));
    assert.ok(lines.some((l) => l.startsWith('training.optimizer: got "lbfgs"; allowed: gd, sgd, adam, gradientFlow')));
  });

  it('rejects wrong types and unknown top-level fields', () => {
    assert.ok(problems({ seed: 'one' }).some((l) => l.startsWith('seed:') && l.includes('"one"')));
    assert.deepEqual(problems({ sed: 1 }), ['sed: unknown field']);
  });
});

describe('spec paths', () => {
  it('sets nested fields and array entries without touching the input', () => {
    const base = { model: { hiddenWidths: [3, 4] } };
    assert.deepEqual(setPath(base, 'model.hiddenWidths.1', 9), { model: { hiddenWidths: [3, 9] } });
    assert.deepEqual(setPath(base, 'training.stop.maxSteps', 5), { model: { hiddenWidths: [3, 4] }, training: { stop: { maxSteps: 5 } } });
    assert.deepEqual(base, { model: { hiddenWidths: [3, 4] } });
  });

  it('merges objects deeply and replaces arrays', () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] } }, { a: { c: [3] }, d: 2 }), { a: { b: 1, c: [3] }, d: 2 });
  });
});
