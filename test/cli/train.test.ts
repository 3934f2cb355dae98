import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/featlab.js', import.meta.url));

function featlab(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('featlab train', () => {
  it('trains a preset and prints a machine-readable result', () => {
    const r = featlab('train', '--preset', 'xor', '--max-steps', '300', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { spec: { training: { stop: { maxSteps: number } } }; result: { steps: number; stopReason: string; final: { trainLoss: number; testError: number }; curve: { trainLoss: number }[] } };
    assert.equal(out.spec.training.stop.maxSteps, 300);
    assert.ok(out.result.steps <= 300);
    assert.ok(out.result.final.trainLoss < out.result.curve[0].trainLoss);
    assert.ok(out.result.final.testError < 0.5);
  });

  it('prints a readable summary with the stop reason', () => {
    const r = featlab('train', '--width', '20', '--n', '50', '--max-steps', '100', '--task', 'separable', '--input-dim', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /train loss/);
    assert.match(r.stdout, /stopped\s+maxSteps after 100 steps/);
  });

  it('says once when a stop target was missed and the run ended on its budget', () => {
    const missed = featlab('train', '--width', '20', '--n', '50', '--max-steps', '30', '--target-risk', '1e-9');
    assert.equal(missed.code, 0, missed.stderr);
    assert.equal(missed.stdout.match(/warning/g)?.length, 1);
    assert.match(missed.stdout, /warning\s+targetTrainRisk did not fire: the run hit its maxSteps budget/);
    assert.doesNotMatch(missed.stdout, /--lr-scaling strength/);
    // A small output scale at an unscaled rate: the warning names the pace, and the flag that restores it.
    const slow = featlab('train', '--width', '20', '--n', '50', '--max-steps', '30', '--target-risk', '1e-9', '--output-scale', '0.01');
    assert.match(slow.stdout, /with output scale 0\.01 the steps are slow: --lr-scaling strength co-scales the learning rate/);
    const reached = featlab('train', '--width', '20', '--n', '50', '--max-steps', '3000', '--target-risk', '0.6');
    assert.match(reached.stdout, /stopped\s+targetRisk/);
    assert.doesNotMatch(reached.stdout, /warning/);
  });

  it('reads a JSON config, flags override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'featlab-'));
    const file = join(dir, 'trial.json');
    writeFileSync(file, JSON.stringify({ model: { hiddenWidths: [7] }, training: { stop: { maxSteps: 20 } } }));
    const r = featlab('train', '--config', file, '--max-steps', '10', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { spec: { model: { hiddenWidths: number[] } }; result: { steps: number } };
    assert.deepEqual(out.spec.model.hiddenWidths, [7]);
    assert.equal(out.result.steps, 10);
  });

  for (const [args, pattern] of [
    [['--activation', 'relux'], /--activation.*relux.*Allowed choices are linear, relu/],
    [['--width', '-5'], /model\.hiddenWidths\.0: .*-5/],
    [['--output-scale', '0'], /model\.outputScale: .*got 0/],
    [['--set', 'model.colour=red'], /model\.colour: unknown field/],
    [['--preset', 'nope'], /--preset.*nope/],
    [['--config', '/nonexistent/trial.json'], /--config: \/nonexistent\/trial\.json: no such file/],
    [['--task', 'parity', '--loss', 'crossEntropy'], /training\.loss/],
  ] as const)
    it(`rejects ${args.join(' ')} with one clear line and exit code 2`, () => {
      const r = featlab('train', ...args, '--max-steps', '1');
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    });

  it('--help lists every option with its default', () => {
    const r = featlab('train', '--help');
    assert.equal(r.code, 0);
    for (const option of ['--preset', '--width', '--activation', '--parametrization', '--output-scale', '--optimizer', '--target-risk', '--json']) assert.match(r.stdout, new RegExp(option));
    assert.match(r.stdout, /default: "?0"?/);
  });
});
