import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatValue, meanBy } from '../../src/report/data.js';
import { meanSe } from '../../src/report/statistics.js';

describe('report statistics near the largest double', () => {
  it('the mean and SE of losses near 1e308 stay finite (a plain sum overflowed and the report printed Infinity)', () => {
    const m = meanSe([1.5e308, 1.7e308, 1.6e308]);
    assert.ok(Number.isFinite(m.mean) && Number.isFinite(m.se), JSON.stringify(m));
    assert.ok(Math.abs(m.mean - 1.6e308) < 1e294);
    assert.ok(Math.abs(m.se - 0.1e308 / Math.sqrt(3)) < 1e293);
    const [point] = meanBy([{ lr: 1, loss: 1.5e308 }, { lr: 1, loss: 1.7e308 }], 'lr', 'loss');
    assert.ok(Math.abs(point.mean - 1.6e308) < 1e294);
  });

  it('the ordinary mean and SE are unchanged, and a value that is not finite prints as such', () => {
    const m = meanSe([1, 2, 3, 4]);
    assert.ok(Math.abs(m.mean - 2.5) < 1e-15 && Math.abs(m.se - Math.sqrt(5 / 3 / 4)) < 1e-15);
    assert.equal(formatValue(Infinity), 'not finite');
    assert.equal(formatValue(-Infinity), 'not finite');
  });
});
