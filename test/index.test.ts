/**
 * The package imports by its name from another folder, as a user who installed it would, and its
 * public pieces train a net and read its Jacobian.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { tempDir } from './run/fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe("import 'featlab'", () => {
  it('resolves by name (package exports and types) and runs a trial through the public API', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'featlab'), 'dir');
    writeFileSync(
      join(dir, 'use.mjs'),
      `import { parseTrialSpec, runTrial, jacobianSpectrum, informationSpace, METRICS } from 'featlab';
const spec = parseTrialSpec({ data: { task: 'teacher', n: 40, nTest: 20 }, model: { hiddenWidths: [16] }, training: { stop: { maxSteps: 50 } }, metrics: [{ name: 'jacobian', at: 'final' }] });
const r = runTrial(spec);
console.log(JSON.stringify({ status: r.status, steps: r.steps, rank: r.final.metrics['jacobian.informationRank'], metrics: METRICS.length, fns: [typeof jacobianSpectrum, typeof informationSpace] }));
`,
    );
    const r = spawnSync(process.execPath, ['use.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, FEATLAB_QUIET_BACKEND: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: string; steps: number; rank: number; metrics: number; fns: string[] };
    assert.equal(out.status, 'completed');
    assert.equal(out.steps, 50);
    assert.ok(out.rank >= 1 && out.rank <= 20);
    assert.ok(out.metrics >= 7);
    assert.deepEqual(out.fns, ['function', 'function']);
  });
});
