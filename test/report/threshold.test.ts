import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeFinding } from '../../src/papers/threshold/report.js';
import { budgetsUpTo, classFractions, crossing, runClass, thresholdAgainstBudget } from '../../src/papers/threshold/clarke.js';

describe('threshold report: plateau length against the init scale', () => {
  const row = (n: number, initScale: number, seed: number, steps: number, stop = 'targetRisk') => ({ part: 'small-init', 'data.n': n, 'model.initScale': initScale, seed, steps, stop_reason: stop });

  it('pairs the smallest and largest init by seed on log₁₀ steps and leaves censored runs out of the pairs', () => {
    const { runs, growth } = escapeFinding([
      row(160, 1e-5, 0, 1e4),
      row(160, 1e-9, 0, 1e5),
      row(160, 1e-5, 1, 2e4),
      row(160, 1e-9, 1, 2e6 / 10),
      // Seed 2 never escaped at the small init: counted, not paired.
      row(160, 1e-5, 2, 3e4),
      row(160, 1e-9, 2, 1e6, 'maxSteps'),
      // Another part and a failed run are ignored.
      { ...row(160, 1e-5, 3, 5), part: 'large-init' },
      row(160, 1e-5, 4, 7, 'diverged'),
    ]);
    assert.equal(runs.length, 6);
    assert.equal(growth.length, 1);
    const g = growth[0];
    assert.deepEqual([g.n, g.from, g.to, g.count, g.above, g.below, g.censored], [160, 1e-9, 1e-5, 2, 2, 0, 1]);
    assert.ok(Math.abs(g.mean - 1) < 1e-12, `both seeds 10× later: ${g.mean}`);
    assert.ok(Math.abs(g.se) < 1e-12);
  });
});

describe('threshold report: the window rule’s classes and n* against the budget', () => {
  const run = (id: string, n: number, loss: number, stop: string) => ({ trial_id: id, part: 'small-init', 'data.n': n, train_loss: loss, 'baseline.trainLoss': 0.1, stop_reason: stop });

  it('classes each run: escaped below half of least squares’ loss whatever stopped it, certified only by the window rule', () => {
    assert.equal(runClass(run('a', 20, 0.049, 'maxSteps')), 'escaped');
    assert.equal(runClass(run('b', 20, 0.049, 'windowStationary')), 'escaped');
    assert.equal(runClass(run('c', 320, 0.05, 'windowStationary')), 'stationary non-interpolating');
    assert.equal(runClass(run('d', 320, 0.09, 'maxSteps')), 'still sliding');
    assert.equal(runClass({ ...run('e', 320, 0.09, 'maxSteps'), 'baseline.trainLoss': null }), null);
    const fractions = classFractions([run('a', 320, 0.09, 'windowStationary'), run('b', 320, 0.09, 'windowStationary'), run('c', 320, 0.09, 'maxSteps'), run('d', 320, 0.01, 'maxSteps')]);
    const certified = fractions.find((f) => f.runClass === 'stationary non-interpolating');
    assert.deepEqual([certified?.count, certified?.runs, certified?.fraction], [2, 4, 0.5]);
    assert.ok(Math.abs((certified?.se ?? 0) - Math.sqrt(0.25 / 4)) < 1e-15);
  });

  it('reads n* where the non-interpolating fraction crosses ½, linear in log n, at each budget from each run’s last recorded state', () => {
    assert.ok(Math.abs((crossing([{ n: 40, fraction: 0 }, { n: 160, fraction: 1 }]).n as number) - 80) < 1e-9);
    assert.deepEqual(crossing([{ n: 40, fraction: 0.5 }, { n: 160, fraction: 1 }]), { n: null, atOrBelow: 40 });
    assert.deepEqual(crossing([{ n: 40, fraction: 0 }, { n: 160, fraction: 0.25 }]), { n: null, atOrBelow: null });
    // Two runs at n = 160: one leaves least squares at step 5000, one only at 50 000; one run at n = 40 interpolates early.
    const rows = [run('x', 160, 0.01, 'maxSteps'), run('y', 160, 0.01, 'maxSteps'), run('z', 40, 0.001, 'maxSteps')];
    const curves = [
      { trial: 'x', step: 1000, trainLoss: 0.1 },
      { trial: 'x', step: 5000, trainLoss: 0.01 },
      { trial: 'y', step: 1000, trainLoss: 0.1 },
      { trial: 'y', step: 20000, trainLoss: 0.09 },
      { trial: 'y', step: 50000, trainLoss: 0.01 },
      { trial: 'z', step: 100, trainLoss: 0.001 },
    ];
    const [early, mid, late] = thresholdAgainstBudget(rows, curves, [2000, 30000, 60000]);
    assert.deepEqual(early.fractions, [{ n: 40, fraction: 0, runs: 1 }, { n: 160, fraction: 1, runs: 2 }]);
    assert.ok(Math.abs((early.threshold.n as number) - 80) < 1e-9);
    assert.deepEqual(mid.fractions[1], { n: 160, fraction: 0.5, runs: 2 });
    assert.ok(Math.abs((mid.threshold.n as number) - 160) < 1e-9);
    assert.equal(late.threshold.n, null);
    assert.deepEqual(budgetsUpTo(400000), [10000, 30000, 100000, 300000, 400000]);
  });
});
