/**
 * README's examples, executed: its JSON and YAML blocks validate, its `featlab` command lines run
 * (training shortened by one extra --set, the sweep by --shard), and its library snippet runs as a
 * user's module that imports 'featlab' by name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { parseExperiment } from '../src/experiments/experimentSpec.js';
import { parseTrialSpec } from '../src/experiments/trialSpec.js';
import { tempDir } from './run/fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'featlab.js');

interface Block {
  readonly language: string;
  readonly text: string;
  readonly line: number;
}

function readmeBlocks(): Block[] {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    while (++i < lines.length && lines[i] !== '```');
    blocks.push({ language: open[1], text: lines.slice(start, i).join('\n'), line: start });
  }
  return blocks;
}

const blocks = readmeBlocks();
const ofLanguage = (language: string) => blocks.filter((b) => b.language === language);

/** A JSON block is a whole object or a `"key": value` fragment of one. */
function jsonOf(block: Block): Record<string, unknown> {
  const text = block.text.trim();
  return JSON.parse(text.startsWith('{') ? text : `{${text}}`) as Record<string, unknown>;
}

/** The `npx featlab …` lines of a shell block, comments dropped, `> file` kept apart. */
function commandLines(block: Block): { args: string[]; redirect: string | null }[] {
  return block.text
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx featlab '))
    .map((l) => {
      const [command, redirect] = l.split(/\s+>\s+/);
      return { args: command.split(/\s+/).slice(2), redirect: redirect ?? null };
    });
}

function run(cwd: string, args: string[]): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, FEATLAB_QUIET_BACKEND: '1' } }) as ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
}

describe('README examples', () => {
  it('every JSON block validates: the trial, the metrics list, the data part', () => {
    const json = ofLanguage('json');
    assert.ok(json.length >= 3);
    for (const block of json) {
      assert.doesNotThrow(() => parseTrialSpec(jsonOf(block)), `README line ${block.line}`);
    }
  });

  it('the YAML sweep expands to the trial count the text states (3 × 5 × 4 × 3)', () => {
    const [yaml] = ofLanguage('yaml');
    assert.ok(yaml);
    assert.equal(parseExperiment(parseYaml(yaml.text)).trials.length, 180);
  });

  it('the featlab train lines run (shortened to 200 steps), the trial JSON as trial.json', () => {
    const dir = tempDir();
    const trial = ofLanguage('json').find((b) => b.text.trim().startsWith('{'));
    assert.ok(trial);
    writeFileSync(join(dir, 'trial.json'), trial.text);
    const lines = ofLanguage('sh').flatMap(commandLines).filter((c) => c.args[0] === 'train');
    assert.ok(lines.length >= 4);
    for (const { args } of lines) {
      const shortened = args.includes('--help') ? args : [...args, '--set', 'training.stop.maxSteps=200'];
      const r = run(dir, shortened);
      assert.equal(r.status, 0, `featlab ${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0);
    }
  });

  it('the run / ls / show / export lines work on the built-in quickstart (one shard of it)', () => {
    const dir = tempDir();
    const lines = ofLanguage('sh').flatMap(commandLines).filter((c) => ['run', 'ls', 'show', 'export'].includes(c.args[0]));
    assert.ok(lines.length >= 5);
    for (const { args, redirect } of lines) {
      const r = run(dir, args[0] === 'run' ? [...args, '--shard', '1/5', '--quiet', '--no-report'] : args);
      assert.equal(r.status, 0, `featlab ${args.join(' ')}: ${r.stderr}`);
      if (redirect) {
        const [header, ...rows] = r.stdout.trim().split('\n');
        assert.ok(header.includes(','), `${redirect}: ${r.stdout.slice(0, 200)}`);
        // A row for each of the 15 trials, 3 of them (one shard) run; the quickstart records no vector series.
        if (redirect === 'trials.csv') {
          assert.equal(rows.length, 15);
          assert.equal(rows.filter((row) => row.includes(',completed,')).length, 3);
        }
        if (redirect === 'curves.csv') assert.ok(rows.length >= 3);
      }
    }
  });

  it('the library snippet runs as a module importing featlab by name', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'featlab'), 'dir');
    const [snippet] = ofLanguage('js');
    assert.ok(snippet);
    writeFileSync(join(dir, 'snippet.mjs'), snippet.text);
    const r = spawnSync(process.execPath, ['snippet.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, FEATLAB_QUIET_BACKEND: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const [stopReason, testError, rank] = r.stdout.trim().split(/\s+/);
    assert.ok(stopReason.length > 0 && Number.isFinite(Number(testError)) && Number(rank) >= 1, r.stdout);
  });
});
