import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeFinding } from '../../src/papers/threshold/report.js';

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
