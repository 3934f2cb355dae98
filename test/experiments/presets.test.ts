/** Every `featlab train --preset` is a valid spec that passes the checks made before a run. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRESET_NAMES, PRESETS } from '../../src/experiments/presets.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { defaultLimits, sweepProblems } from '../../src/experiments/feasibility.js';

describe('presets', () => {
  for (const name of PRESET_NAMES)
    it(`${name} parses and has no problem before it runs`, () => {
      assert.deepEqual(sweepProblems([{ position: 0, id: name, spec: parseTrialSpec(PRESETS[name]), point: {} }], defaultLimits()), []);
    });
});
