import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toParquet, trialRows } from '../../src/run/tables.js';
import type { StoredTrial } from '../../src/run/store.js';
import { parseTrialSpec, type TrialInput } from '../../src/experiments/trialSpec.js';

function stored(config: TrialInput, error: string | null = null): StoredTrial {
  return { id: 'a', position: 0, point: {}, config, spec: parseTrialSpec(config), status: error ? 'failed' : 'completed', stopReason: null, error, steps: 1, time: 1, seconds: 0, final: null };
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

describe('trial rows of several parts', () => {
  it('fill an axis a trial did not sweep with the value its spec ran with, never an empty cell', () => {
    const a = { ...stored({ model: { hiddenWidths: [10], initScale: 0.1 }, data: { n: 50 } }), id: 'a', point: { 'model.initScale': 0.1 } };
    const b = { ...stored({ model: { hiddenWidths: [10] }, data: { n: 80 } }), id: 'b', point: { 'data.n': 80, 'model.hiddenWidths.0': 10 } };
    const [first, second] = trialRows('e', [a, b]);
    assert.deepEqual([first['model.initScale'], first['data.n'], first['model.hiddenWidths.0']], [0.1, 50, 10]);
    // The second trial's init scale is the spec's default (1).
    assert.deepEqual([second['model.initScale'], second['data.n']], [1, 80]);
  });
});

describe('parquet export', () => {
  it('reads back with the same columns, types and values (nulls kept), and an empty table keeps its header', async () => {
    const { parquetReadObjects, parquetMetadata } = await import('hyparquet');
    const rows = [
      { experiment: 'e', trial_id: 'a', seed: 0, 'model.initScale': 0.01, steps: 120, flipped: true, error_message: null },
      { experiment: 'e', trial_id: 'b', seed: 101, 'model.initScale': 1, steps: 7, flipped: false, error_message: 'diverged at step 7' },
    ];
    const bytes = toParquet(rows);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const back = await parquetReadObjects({ file: buffer });
    assert.equal(back.length, 2);
    assert.deepEqual(back[0], { ...rows[0] });
    assert.deepEqual(back[1], { ...rows[1] });
    const types = Object.fromEntries(parquetMetadata(buffer).schema.slice(1).map((c) => [c.name, c.type]));
    // Counts are integers, even where every value of another number column happens to be whole.
    assert.deepEqual(types, { experiment: 'BYTE_ARRAY', trial_id: 'BYTE_ARRAY', seed: 'INT32', 'model.initScale': 'DOUBLE', steps: 'INT32', flipped: 'BOOLEAN', error_message: 'BYTE_ARRAY' });
    const empty = toParquet([], ['experiment', 'step', 'value']);
    const emptyBuffer = empty.buffer.slice(empty.byteOffset, empty.byteOffset + empty.byteLength) as ArrayBuffer;
    assert.deepEqual(parquetMetadata(emptyBuffer).schema.slice(1).map((c) => c.name), ['experiment', 'step', 'value']);
    assert.equal(Number(parquetMetadata(emptyBuffer).num_rows), 0);
  });
});
