import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trialRows } from '../../src/run/tables.js';
import type { StoredTrial } from '../../src/run/store.js';

function stored(config: unknown, error: string | null = null): StoredTrial {
  return { id: 'a', position: 0, point: {}, config, status: error ? 'failed' : 'completed', stopReason: null, error, steps: 1, time: 1, seconds: 0, final: null };
}

describe('trial rows', () => {
  it('carry the plotted derived quantities: FLS = 1/(α·Π λ_l) and η_out/η_in', () => {
    const [row] = trialRows('e', [stored({ model: { hiddenWidths: [10, 10], initScale: [0.5, 2, 0.1], outputScale: 4 }, training: { layerLearningRates: [0.01, 100] } })]);
    assert.ok(Math.abs((row.feature_learning_strength as number) - 1 / (4 * 0.5 * 2 * 0.1)) < 1e-12);
    assert.equal(row.learning_rate_ratio, 1e4);
    const [plain] = trialRows('e', [stored({ model: { hiddenWidths: [10], initScale: 0.1, outputScale: 1 }, training: {} }, 'boom')]);
    assert.ok(Math.abs((plain.feature_learning_strength as number) - 100) < 1e-9);
    assert.ok(!('learning_rate_ratio' in plain));
    assert.equal(plain.error_message, 'boom');
  });
});
