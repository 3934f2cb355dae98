/** Every device's memory operations: zeroed arrays of the asked float type, read back at once or asynchronously. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKEND_NAMES, createBackend } from '../../src/linalg/index.js';
import { nativeSkip } from '../nativeAvailability.js';

for (const name of BACKEND_NAMES) {
  const device = createBackend(name);
  describe(`${name} device memory`, { skip: nativeSkip(device) }, () => {
    if (device instanceof Error) return;
    for (const dtype of ['float64', 'float32'] as const)
      it(`allocates zeroed ${dtype} arrays and reads them back, at once and asynchronously`, async () => {
        const a = device.allocate(5, dtype);
        assert.equal(a.length, 5);
        assert.ok(dtype === 'float32' ? a instanceof Float32Array : a instanceof Float64Array);
        assert.deepEqual(Array.from(a), [0, 0, 0, 0, 0]);
        a.set([1, 2.5, -3, 0, 7]);
        assert.deepEqual(Array.from(device.read(a)), [1, 2.5, -3, 0, 7]);
        assert.deepEqual(Array.from(await device.readAsync(a)), [1, 2.5, -3, 0, 7]);
      });
  });
}
