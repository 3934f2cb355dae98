/**
 * Every registered metric on the native backend against the ts reference, in float64 and float32: the
 * same trial trained on both, every stored number compared. A metric missing from the table fails.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../src/linalg/index.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { METRIC_NAMES } from '../../src/metrics/registry.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';
import type { MemberResult } from '../../src/train/records.js';
import { expectAllClose } from '../helpers.js';
import { nativeSkip } from '../nativeAvailability.js';

const reference = new TsBackend();
const loaded = createBackend('native');

const binary = { task: 'teacher', inputDim: 4, teacherWidth: 2, n: 48, nTest: 40 };
const regression = { ...binary, labels: 'value' };
/** Per metric: the setting it is defined on and its parameters (small enough for a quick test). */
const CASES: Record<string, { data: object; model?: object; loss?: string; params?: object }> = {
  margins: { data: binary },
  overfitting: { data: { ...binary, labelNoise: { flip: 0.2 } } },
  neurons: { data: binary },
  layers: { data: binary, model: { hiddenWidths: [12, 8], bias: true } },
  weights: { data: binary, model: { hiddenWidths: [12, 8], bias: true } },
  extremal: { data: binary, params: { starts: 16 } },
  kernel: { data: binary, params: { samples: 20 } },
  jacobian: { data: binary, params: { samples: 20 } },
  features: { data: binary, params: { samples: 40 } },
  gradient: { data: binary },
  linearBaseline: { data: regression, loss: 'square' },
  mixture: { data: { task: 'gaussianMixture', inputDim: 6, n: 48, nTest: 40, mixture: { kappa: 1, sigma: 0.5 } } },
};

/** The convolutional rows: the 4 inputs read as a 2×2 image; the metrics its spec refuses are left out. */
const CNN = { family: 'cnn', layers: [{ type: 'conv', channels: 6 }, { type: 'dense', units: 8 }], inputShape: [1, 2, 2] };
const NOT_FOR_CNN = ['neurons', 'layers', 'extremal', 'mixture'];

/** fp64: same sums in another order after 30 steps; fp32: rounding of 30 steps through the metric's own fp64 arithmetic. */
const TOLERANCE = { float64: { rtol: 1e-8, atol: 1e-10 }, float32: { rtol: 2e-3, atol: 2e-4 } } as const;

/** Every number a trial stores for its metrics, by name (a null value as null). */
function storedNumbers(result: MemberResult): Map<string, readonly number[] | null> {
  const out = new Map<string, readonly number[] | null>();
  for (const [name, value] of Object.entries(result.final.metrics)) out.set(name, value === null ? null : [value]);
  for (const s of result.series) out.set(`${s.name}@${s.step}`, s.values);
  return out;
}

describe('every metric on native against ts, in both dtypes', { skip: nativeSkip(loaded) }, () => {
  it('the table covers every registered metric', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...METRIC_NAMES].sort());
  });
  if (loaded instanceof Error) return;
  const native = loaded;
  for (const family of ['mlp', 'cnn'] as const)
    for (const dtype of ['float64', 'float32'] as const)
      for (const [name, c] of Object.entries(CASES).filter(([name]) => family === 'mlp' || !NOT_FOR_CNN.includes(name)))
        it(`${name} (${family}, ${dtype})`, () => {
          const model = family === 'mlp' ? { hiddenWidths: [16], ...c.model, dtype } : { ...CNN, dtype };
          const spec = parseTrialSpec({
            data: c.data,
            model,
            training: { loss: c.loss ?? 'logistic', learningRate: 0.05, stop: { maxSteps: 30 } },
            metrics: [{ name, at: 'final', params: c.params }],
          });
          const [t, n] = [runEnsembleTrial(spec, [{}], { backend: reference }).results[0], runEnsembleTrial(spec, [{}], { backend: native }).results[0]];
          const [expected, actual] = [storedNumbers(t), storedNumbers(n)];
          assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${name}: the same values are stored`);
          assert.ok(![...expected.keys()].some((k) => k.endsWith('.error')), `${name}: the metric failed on ts`);
          for (const [key, values] of expected) {
            if (values === null) assert.equal(actual.get(key), null, `${name} ${dtype}: ${key} is null on ts`);
            else expectAllClose(actual.get(key) ?? [], values, TOLERANCE[dtype], `${name} ${dtype}: ${key}`);
          }
        });
});
