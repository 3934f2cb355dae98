/**
 * Training in pieces (the live lab): calls that go on from a TrainingContinuation give the parameters
 * of one call of the summed length, for every discrete optimizer, on the ts backend and the native loop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../src/linalg/index.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import type { Backend } from '../../src/linalg/backend.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { buildData, buildModel, trainingConfig } from '../../src/experiments/trial.js';
import { nativeSkip } from '../nativeAvailability.js';
import { TrainingContinuation, trainEnsemble } from '../../src/train/trainer.js';

const CASES = [
  { optimizer: 'gd', learningRate: 0.3 },
  { optimizer: 'sgd', learningRate: 0.1, batchSize: 16 },
  { optimizer: 'adam', learningRate: 0.01 },
  { optimizer: 'adam', learningRate: 0.01, batchSize: 16 },
] as const;

function setUp(c: (typeof CASES)[number], backend: Backend) {
  // 50 points in batches of 16: epochs end mid-piece and pieces end mid-epoch.
  const spec = parseTrialSpec({ seed: 5, model: { hiddenWidths: [12] }, data: { task: 'teacher', inputDim: 3, teacherWidth: 2, n: 50, nTest: 20 }, training: { ...c, stop: { maxSteps: 1 } } });
  const split = buildData(spec, backend);
  const model = buildModel(spec, split, [{}, { initScale: 0.5 }], backend);
  return { spec, split, model };
}

describe('training continued from a TrainingContinuation', () => {
  const native = createBackend('native');
  const backends: [string, Backend | Error][] = [['ts', new TsBackend()], ['native', native]];
  for (const [backendName, loaded] of backends)
    for (const c of CASES) {
      const label = `${c.optimizer}${'batchSize' in c ? ` (batches of ${c.batchSize})` : ''} on ${backendName}`;
      it(`pieces of 7, 1, 30 and 12 steps give the parameters of one 50-step run: ${label}`, { skip: nativeSkip(loaded) }, () => {
        if (loaded instanceof Error) return;
        const backend = loaded;
        const whole = setUp(c, backend);
        const [one] = trainEnsemble(whole.model, whole.split, { ...trainingConfig(whole.spec), stop: { ...trainingConfig(whole.spec).stop, maxSteps: 50 } }, { seed: whole.spec.seed });
        assert.equal(one.steps, 50);

        const pieces = setUp(c, backend);
        const continuation = new TrainingContinuation();
        let total = 0;
        for (const steps of [7, 1, 30, 12]) {
          total += steps;
          const [r] = trainEnsemble(pieces.model, pieces.split, { ...trainingConfig(pieces.spec), stop: { ...trainingConfig(pieces.spec).stop, maxSteps: total } }, { seed: pieces.spec.seed, continuation });
          assert.equal(r.steps, total);
        }
        assert.deepEqual(Array.from(continuation.steps ?? []), [50, 50]);
        for (const k of [0, 1]) {
          const [a, b] = [whole.model.parameters(k), pieces.model.parameters(k)];
          let worst = 0;
          for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(a[i])));
          // Bit-for-bit on ts; the native loop's fixed-order sums are the same in pieces.
          assert.ok(worst <= 1e-12, `member ${k}: relative difference ${worst}`);
        }
        // Without the continuation the pieces differ (Adam's moments restart, the minibatch order restarts).
        if (c.optimizer !== 'gd') {
          const fresh = setUp(c, backend);
          for (const steps of [7, 43]) trainEnsemble(fresh.model, fresh.split, { ...trainingConfig(fresh.spec), stop: { ...trainingConfig(fresh.spec).stop, maxSteps: steps } }, { seed: fresh.spec.seed });
          const [a, b] = [whole.model.parameters(0), fresh.model.parameters(0)];
          assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-9), 'restarting the optimizer changes the run');
        }
      });
    }
});
