/** Every `featlab train --preset` and every profile of every built-in is a valid spec that passes the checks made before a run. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { builtinNames, builtinPath } from '../../src/experiments/builtins.js';
import { loadExperimentFile } from '../../src/experiments/experimentSpec.js';
import { PRESET_NAMES, PRESETS } from '../../src/experiments/presets.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { defaultLimits, sweepProblems } from '../../src/experiments/feasibility.js';

describe('presets', () => {
  for (const name of PRESET_NAMES)
    it(`${name} parses and has no problem before it runs`, () => {
      assert.deepEqual(sweepProblems([{ position: 0, id: name, spec: parseTrialSpec(PRESETS[name]), point: {} }], defaultLimits()), []);
    });
});

describe('built-in profiles', () => {
  for (const name of builtinNames()) {
    const path = builtinPath(name) as string;
    const profiles = Object.keys((parseYaml(readFileSync(path, 'utf8')) as { profiles?: Record<string, unknown> }).profiles ?? {});
    for (const profile of [undefined, ...profiles])
      it(`${name}${profile ? ` --profile ${profile}` : ''} has no problem before it runs (but for data this machine lacks)`, () => {
        const experiment = profile ? loadExperimentFile(path, profile) : loadExperimentFile(path);
        const problems = sweepProblems(experiment.trials, defaultLimits()).filter((p) => !/is not on this machine/.test(p));
        assert.deepEqual(problems, []);
      });
  }
});
