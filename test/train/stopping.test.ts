/** The stop rules as registered values: one per reason, each owning its fields of the spec, checked in order. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStop, STOP_REASONS, STOP_RULES, stepBudget, stopSchema, type MemberProgress } from '../../src/train/stopping.js';

const progress = (overrides: Partial<MemberProgress>): MemberProgress => ({ step: 10, epochs: 10, time: 1, seconds: 0.1, trainLoss: 0.5, trainMisfit: 0.2, lossWindowAgo: null, gradientNorm: null, ...overrides });

describe('stop rules', () => {
  it('one rule per stop reason, and the spec\'s stop schema is exactly their fields', () => {
    assert.deepEqual(STOP_RULES.map((r) => r.reason).sort(), [...STOP_REASONS].sort());
    const owned = STOP_RULES.flatMap((r) => Object.keys(r.fields));
    assert.equal(new Set(owned).size, owned.length, 'no field is owned by two rules');
    assert.deepEqual(owned.sort(), Object.keys(stopSchema.shape).sort());
  });

  it('each rule fires on its own condition and the first in order wins', () => {
    const config = stopSchema.parse({ maxSteps: 100, maxTime: 5, maxSeconds: 60, targetTrainRisk: 0.1, interpolation: true, plateau: { window: 10, relativeTolerance: 0.01 }, gradientTolerance: 1e-6, divergenceLoss: 1e6 });
    assert.equal(checkStop(config, progress({})), null);
    assert.equal(checkStop(config, progress({ trainLoss: Number.NaN })), 'diverged');
    assert.equal(checkStop(config, progress({ trainLoss: 2e6 })), 'diverged');
    assert.equal(checkStop(config, progress({ trainLoss: 0.05 })), 'targetRisk');
    assert.equal(checkStop(config, progress({ trainMisfit: 0 })), 'interpolated');
    assert.equal(checkStop(config, progress({ gradientNorm: 1e-7 })), 'stationary');
    assert.equal(checkStop(config, progress({ lossWindowAgo: 0.502 })), 'plateau');
    assert.equal(checkStop(config, progress({ lossWindowAgo: 0.6 })), null, 'a loss still falling by more than the tolerance');
    assert.equal(checkStop(config, progress({ step: 100 })), 'maxSteps');
    assert.equal(checkStop(config, progress({ time: 5 })), 'maxTime');
    assert.equal(checkStop(config, progress({ seconds: 60 })), 'maxSeconds');
    // Divergence is checked before a budget, a state rule before a budget.
    assert.equal(checkStop(config, progress({ trainLoss: Number.POSITIVE_INFINITY, step: 100 })), 'diverged');
    assert.equal(checkStop(config, progress({ trainLoss: 0.05, step: 100 })), 'targetRisk');
  });

  it('a target training accuracy fires at its fraction of fitted points, before interpolation', () => {
    const config = stopSchema.parse({ targetTrainAccuracy: 0.99, interpolation: true });
    assert.equal(checkStop(config, progress({ trainMisfit: 0.0101 })), null);
    assert.equal(checkStop(config, progress({ trainMisfit: 1 / 100 })), 'targetAccuracy', '99 of 100 points fitted is 99 %');
    assert.equal(checkStop(config, progress({ trainMisfit: 0 })), 'targetAccuracy');
  });

  it('an epoch budget counts passes over the data and ends a run before its step budget', () => {
    const config = stopSchema.parse({ maxEpochs: 3, maxSteps: 100 });
    assert.equal(checkStop(config, progress({ step: 11, epochs: 11 / 4 })), null);
    assert.equal(checkStop(config, progress({ step: 12, epochs: 3 })), 'maxEpochs');
    assert.equal(stepBudget(config, 4), 12);
    assert.equal(stepBudget(config, 40), 100, 'maxSteps still bounds it');
    assert.equal(stepBudget(stopSchema.parse({ maxSteps: 7 }), 4), 7);
  });
});
