import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { angleHistogram } from '../../src/web/lab/neuronAngles.js';
import { Rng } from '../../src/linalg/rng.js';

describe('neuron angle histogram', () => {
  it('puts the chance level 1/bins in each bin for random directions, and all the mass in one bin for aligned neurons', () => {
    const rng = Rng.fromSeed(3);
    const m = 20000;
    const wx = Array.from({ length: m }, () => rng.gaussian());
    const wy = Array.from({ length: m }, () => rng.gaussian());
    // Contribution |a|·‖w‖ independent of the direction: uniform mass on the circle.
    const a = wx.map((x, j) => (j % 2 ? 1 : -1) / Math.hypot(x, wy[j]));
    const random = angleHistogram(wx, wy, a, 24);
    const sums = random.positive.map((v, b) => v + random.negative[b]);
    assert.ok(Math.abs(sums.reduce((s, v) => s + v, 0) - 1) < 1e-12);
    // Each bin's share of 20 000 equal weights: chance ± 4 standard errors.
    const se = Math.sqrt(random.chance * (1 - random.chance) / m);
    for (const v of sums) assert.ok(Math.abs(v - random.chance) < 4 * se, `bin ${v} vs ${random.chance}`);
    const aligned = angleHistogram([1, 2, 0.5, -1], [1, 2, 0.5, -1], [1, 0.5, 3, -2], 8);
    // Three neurons along 45°, one along 225° with a negative output weight.
    assert.ok(Math.abs(aligned.positive[1] - (Math.SQRT2 + Math.SQRT2 + 1.5 * Math.SQRT2) / (5.5 * Math.SQRT2)) < 1e-12);
    assert.ok(Math.abs(aligned.negative[5] - 2 / 5.5) < 1e-12);
    assert.ok(Math.abs(aligned.peak - 3.5 / 5.5) < 1e-12);
    assert.equal(aligned.chance, 1 / 8);
  });
});
