import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseExperiment } from '../../src/experiments/experimentSpec.js';
import { planJobs, runExperiment } from '../../src/run/executor.js';
import { SilentProgress } from '../../src/run/progress.js';
import { Store } from '../../src/run/store.js';
import { featlab, featlabAsync, storedNumbers, sweepSpec, tempDir, writeSpec } from './fixtures.js';

async function runInto(db: string, spec: Record<string, unknown>, options: { threads?: number; shard?: { index: number; count: number }; force?: boolean } = {}) {
  const store = Store.open(db);
  try {
    return await runExperiment(parseExperiment(spec), { store, progress: new SilentProgress(), ...options });
  } finally {
    store.close();
  }
}

function storedCount(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const raw = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (raw.prepare('SELECT count(*) AS n FROM trials').get() as { n: number }).n;
    } finally {
      raw.close();
    }
  } catch {
    return 0;
  }
}

describe('runner', () => {
  const spec = sweepSpec('sweep', [10, 20, 30], 2);

  it('gives identical stored numbers with 1 and 2 threads, and skips stored trials on a second run', async () => {
    const dir = tempDir();
    const one = await runInto(join(dir, 'one.db'), spec, { threads: 1 });
    const two = await runInto(join(dir, 'two.db'), spec, { threads: 2 });
    assert.equal(one.completed + one.diverged, 12);
    assert.equal(two.ran, 12);
    assert.deepEqual(storedNumbers(join(dir, 'one.db'), 'sweep'), storedNumbers(join(dir, 'two.db'), 'sweep'));
    const again = await runInto(join(dir, 'one.db'), spec, { threads: 2 });
    assert.deepEqual([again.ran, again.skipped], [0, 12]);
    const forced = await runInto(join(dir, 'one.db'), spec, { threads: 2, force: true });
    assert.equal(forced.ran, 12);
    assert.deepEqual(storedNumbers(join(dir, 'one.db'), 'sweep'), storedNumbers(join(dir, 'two.db'), 'sweep'));
  });

  it('batches ensemble-compatible trials: output scales and seeds of one width share a job', () => {
    const trials = parseExperiment(spec).trials;
    const jobs = planJobs(trials, 1, 64);
    // Widths change the shape (3 groups); seed changes the data (2 groups each); output scale is a member field.
    assert.equal(jobs.length, 6);
    assert.ok(jobs.every((j) => j.length === 2));
    assert.equal(planJobs(trials, 12, 64).length, 12, 'cut further so twelve threads all get work');
    assert.ok(planJobs(trials, 1, 1).every((j) => j.length === 1), '--max-ensemble 1: every trial its own job, stored as it ends');
  });

  it('the union of N shards, merged, equals the unsharded run', async () => {
    const dir = tempDir();
    await runInto(join(dir, 'whole.db'), spec, { threads: 2 });
    const shards = [1, 2, 3].map((index) => join(dir, `shard${index}.db`));
    for (const [i, db] of shards.entries()) {
      const s = await runInto(db, spec, { threads: 1, shard: { index: i + 1, count: 3 } });
      assert.equal(s.ran, 4);
    }
    const merged = featlab(['merge', ...shards, '--db', join(dir, 'merged.db')]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.deepEqual(storedNumbers(join(dir, 'merged.db'), 'sweep'), storedNumbers(join(dir, 'whole.db'), 'sweep'));
    const ls = featlab(['ls', '--db', join(dir, 'merged.db')]);
    assert.match(ls.stdout, /sweep\s+12\s+12\s+0\s+0\s+0/);
  });

  it('merge refuses two different experiments of one name, or another featlab version, and writes nothing', async () => {
    const dir = tempDir();
    const a = sweepSpec('same', [10], 2);
    const b = sweepSpec('same', [30], 2);
    await runInto(join(dir, 'a.db'), a, { threads: 1 });
    await runInto(join(dir, 'b.db'), b, { threads: 1 });
    const target = join(dir, 'merged.db');
    const mixed = featlab(['merge', join(dir, 'a.db'), join(dir, 'b.db'), '--db', target]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /^featlab: .*b\.db: experiment "same" has other trials than the one of that name in the other store \(8 trial ids differ\).*\n$/);
    assert.equal(existsSync(target), false, 'nothing written, not even an empty store');
    // Into a store that already holds the other one: refused, and that store keeps what it had.
    assert.equal(featlab(['merge', join(dir, 'a.db'), '--db', target]).code, 0);
    const before = storedNumbers(target, 'same');
    assert.equal(featlab(['merge', join(dir, 'b.db'), '--db', target]).code, 2);
    assert.deepEqual(storedNumbers(target, 'same'), before);
    // The same experiment written by another featlab version.
    const c = join(dir, 'c.db');
    await runInto(c, a, { threads: 1 });
    const raw = new Database(c);
    raw.prepare("UPDATE experiments SET featlab_version = '0.0.1'").run();
    raw.close();
    const versions = featlab(['merge', c, '--db', target]);
    assert.equal(versions.code, 2);
    assert.match(versions.stderr, /experiment "same" was written by featlab 0\.0\.1, the other by featlab \d/);
  });

  it('killed with SIGKILL mid-sweep, then run again: every trial stored once, the same table as an uninterrupted run', async () => {
    const dir = tempDir();
    // Every trial runs all its steps (no target risk), long enough that the kill lands mid-sweep.
    const slow = sweepSpec('slow', [20, 40, 60, 80], 3, 20000, null);
    const file = writeSpec(dir, slow);
    const db = join(dir, 'killed.db');
    const child = featlabAsync(['run', file, '--db', db, '--threads', '1', '--quiet']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 60000;
    while (storedCount(db) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    const before = storedCount(db);
    assert.ok(before >= 3 && before < 24, `stored ${before} before the kill`);
    const resumed = featlab(['run', file, '--db', db, '--threads', '2']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`ran ${24 - before} .* ${before} already stored`));
    assert.equal(storedCount(db), 24);
    const whole = join(dir, 'whole.db');
    assert.equal(featlab(['run', file, '--db', whole, '--quiet']).code, 0);
    assert.deepEqual(storedNumbers(db, 'slow'), storedNumbers(whole, 'slow'));
  });

  it('SIGINT stops cleanly: what finished is stored, exit code 130, a rerun completes', async () => {
    const dir = tempDir();
    const file = writeSpec(dir, sweepSpec('interrupted', [20, 40, 60, 80], 3, 20000, null));
    const db = join(dir, 'int.db');
    const child = featlabAsync(['run', file, '--db', db, '--threads', '1', '--quiet']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    while (storedCount(db) < 2) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    assert.deepEqual(await exited, [130, null], stderr);
    assert.match(stdout, /stopped early/);
    const stored = storedCount(db);
    assert.ok(stored >= 2 && stored < 24);
    const again = featlab(['run', file, '--db', db, '--quiet']);
    assert.equal(again.code, 0);
    assert.equal(storedCount(db), 24);
  });

  it('SIGTERM during trials that take minutes: exit within 5 s, nothing partial stored, and a rerun gives the uninterrupted table', async () => {
    const dir = tempDir();
    // Four trials of 10⁷ steps each (minutes on any machine), then the same sweep cut short for the rerun check.
    const long = sweepSpec('term', [20, 40], 1, 10_000_000, null);
    const file = writeSpec(dir, long);
    const db = join(dir, 'term.db');
    const child = featlabAsync(['run', file, '--db', db, '--threads', '2', '--quiet']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    await new Promise((r) => setTimeout(r, 2500));
    const sent = performance.now();
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [130, null], stderr);
    const seconds = (performance.now() - sent) / 1000;
    assert.ok(seconds < 5, `exited ${seconds.toFixed(2)} s after SIGTERM`);
    assert.match(stderr, /SIGTERM: stopping; the trials in flight end at their next step/);
    assert.equal(storedCount(db), 0, 'no trial finished, none stored half-done');
    // Stopped mid-sweep with shorter trials, then resumed: the table of an uninterrupted run.
    const short = sweepSpec('resume', [20, 40, 60, 80], 3, 20000, null);
    const shortFile = writeSpec(dir, short, 'resume.yaml');
    const resumed = join(dir, 'resumed.db');
    const second = featlabAsync(['run', shortFile, '--db', resumed, '--threads', '2', '--quiet']);
    const secondExit = new Promise<number | null>((resolve) => second.once('exit', (code) => resolve(code)));
    while (storedCount(resumed) < 2) await new Promise((r) => setTimeout(r, 20));
    second.kill('SIGTERM');
    assert.equal(await secondExit, 130);
    assert.ok(storedCount(resumed) < 24);
    assert.equal(featlab(['run', shortFile, '--db', resumed, '--quiet']).code, 0);
    await runInto(join(dir, 'whole.db'), short, { threads: 2 });
    assert.deepEqual(storedNumbers(resumed, 'resume'), storedNumbers(join(dir, 'whole.db'), 'resume'));
  });

  it('progress counts the steps the workers take: the work done grows before the first trial finishes', async () => {
    const dir = tempDir();
    // No stop rule: every trial runs its whole budget, so the budget is the work.
    const experiment = parseExperiment(sweepSpec('work', [200], 1, 4000, null));
    const store = Store.open(join(dir, 'work.db'));
    const seen: { done: number; fraction: number | undefined }[] = [];
    const progress = Object.assign(new SilentProgress(), { update: (done: number, _failed: number, fraction?: number) => seen.push({ done, fraction }) });
    await runExperiment(experiment, { store, threads: 1, progress, progressIntervalMs: 20 });
    store.close();
    const early = seen.filter((u) => u.done === 0 && u.fraction !== undefined);
    assert.ok(early.some((u) => (u.fraction as number) > 0.1) && early.every((u) => (u.fraction as number) < 1), JSON.stringify(seen));
    assert.equal(seen[seen.length - 1].fraction, 1);
    // Non-decreasing: steps only add up.
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i].fraction ?? 0) >= (seen[i - 1].fraction ?? 0) - 1e-12, JSON.stringify(seen));
  });

  it('an ensemble job stores each member as it stops: a stop while another member trains keeps the finished one', async () => {
    const dir = tempDir();
    const db = join(dir, 'members.db');
    // Learning rates are member fields: one job of two members; 0.3 reaches the target risk in a few hundred
    // steps, 1e-9 never does within its 10⁷ steps (minutes).
    const base = sweepSpec('members', [20], 1, 10_000_000, 0.02) as { base: Record<string, unknown> };
    const experiment = parseExperiment({ name: 'members', base: base.base, sweep: { grid: { 'training.learningRate': [0.3, 1e-9] }, seeds: 1 } });
    assert.equal(planJobs(experiment.trials, 1, 64).length, 1);
    const controller = new AbortController();
    const store = Store.open(db);
    const progress = Object.assign(new SilentProgress(), { update: (done: number) => done >= 1 && controller.abort() });
    const summary = await runExperiment(experiment, { store, threads: 1, progress, signal: controller.signal, progressIntervalMs: 20 });
    store.close();
    assert.equal(summary.interrupted, true);
    assert.deepEqual([summary.ran, storedCount(db)], [1, 1]);
  });

  it('a spec that names its report (a title) gets it written without --report; --no-report still skips it', () => {
    const dir = tempDir();
    const file = writeSpec(dir, { ...sweepSpec('titled', [10], 1, 20), report: { title: 'A titled sweep' } });
    assert.equal(featlab(['run', file, '--db', join(dir, 'a.db'), '--quiet', '--no-report'], dir).code, 0);
    assert.ok(!existsSync(join(dir, 'reports', 'titled', 'index.html')));
    const run = featlab(['run', file, '--db', join(dir, 'b.db'), '--quiet'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(join(dir, 'reports', 'titled', 'index.html')), run.stdout);
  });

  it('a stop that arrives after every trial finished exits 0', async () => {
    const dir = tempDir();
    const experiment = parseExperiment(sweepSpec('done', [10], 1, 50));
    const controller = new AbortController();
    const store = Store.open(join(dir, 'done.db'));
    // The stop arrives as the last trial is stored, before the run returns.
    const progress = Object.assign(new SilentProgress(), { update: (done: number) => done === experiment.trials.length && controller.abort() });
    const summary = await runExperiment(experiment, { store, threads: 1, progress, signal: controller.signal });
    store.close();
    assert.ok(controller.signal.aborted);
    assert.equal(summary.interrupted, false);
    assert.equal(summary.ran, 2);
  });

  it('featlab show turns control characters of stored text into a visible mark (no terminal escapes)', async () => {
    const dir = tempDir();
    const db = join(dir, 'esc.db');
    await runInto(db, { ...sweepSpec('esc', [10], 1, 5), description: 'title \u001b]52;c;cHduZWQ=\u0007 with \u001b[2J escapes' });
    const show = featlab(['show', 'esc', '--db', db]);
    assert.equal(show.code, 0);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.doesNotMatch(show.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    assert.match(show.stdout, /title \ufffd\]52;c;cHduZWQ=\ufffd with \ufffd\[2J escapes/);
  });

  it('a failing trial is stored with its error and the sweep goes on (exit code 1)', () => {
    const dir = tempDir();
    // Flipping labels needs labels, which real-valued targets are not (found when the data is built): those trials fail, the others run.
    const file = writeSpec(dir, { name: 'mixed', base: { data: { task: 'teacher', n: 20, nTest: 10, labelNoise: { flip: 0.2 } }, training: { loss: 'square', stop: { maxSteps: 5 } } }, sweep: { grid: { 'data.labels': ['sign', 'value'] } } });
    const db = join(dir, 'm.db');
    const r = featlab(['run', file, '--db', db, '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /1 completed, 0 diverged, 1 failed/);
    const show = featlab(['show', 'mixed', '--db', db]);
    assert.match(show.stdout, /failed trial [0-9a-f]{16}: data\.labelNoise\.flip: flipping needs class labels/);
  });

  it('a malformed spec writes nothing: no store file appears', () => {
    const dir = tempDir();
    const file = writeSpec(dir, 'name: bad\nsweep:\n  grid:\n    data.n: [-1]\n');
    const db = join(dir, 'never.db');
    const r = featlab(['run', file, '--db', db]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /data\.n/);
    assert.equal(existsSync(db), false);
  });

  it('a foreign --db is refused with exit code 2 and left alone', () => {
    const dir = tempDir();
    const file = writeSpec(dir, sweepSpec('s', [5], 1, 5));
    const r = featlab(['run', file, '--db', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not a featlab store/);
  });

  it('a spec reusing a stored name with other content is refused (exit 2) until --replace; show prints step counts exactly', () => {
    const dir = tempDir();
    const db = join(dir, 'r.db');
    assert.equal(featlab(['run', writeSpec(dir, sweepSpec('same', [5], 1, 20)), '--db', db, '--quiet']).code, 0);
    assert.equal(featlab(['run', writeSpec(dir, sweepSpec('same', [5], 1, 20), 'again.yaml'), '--db', db, '--quiet']).code, 0, 'the same content resumes');
    const changed = writeSpec(dir, sweepSpec('same', [5, 6], 1, 20), 'changed.yaml');
    const refused = featlab(['run', changed, '--db', db, '--quiet']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^featlab: same: .* holds an experiment of this name from a different spec; give the spec a new name, or --replace/);
    const replaced = featlab(['run', changed, '--db', db, '--quiet', '--replace']);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /ran 2 .* 2 already stored/);
    // A run stopped on its budget before the target: steps shown exactly, the miss said once.
    const long = sweepSpec('long', [30], 1, 123457, 1e-9);
    const result = featlab(['run', writeSpec(dir, { ...long, sweep: { seeds: 1 } }, 'long.yaml'), '--db', db, '--quiet']);
    assert.match(result.stdout, /warning: convergence: 1 of 1 finished trials hit their step or time limit before targetTrainRisk fired/);
    assert.match(featlab(['show', 'long', '--db', db]).stdout, / 123457 /);
  });

  it('exports the recorded vectors in long format (--series): one row per entry, as stored', () => {
    const dir = tempDir();
    const spec = sweepSpec('vectors', [7], 1, 30);
    const file = writeSpec(dir, { ...spec, base: { ...(spec.base as object), metrics: [{ name: 'neurons', at: 'final' }] } });
    const db = join(dir, 'v.db');
    assert.equal(featlab(['run', file, '--db', db, '--quiet']).code, 0);
    const rows = JSON.parse(featlab(['export', 'vectors', '--db', db, '--series', '--format', 'json']).stdout) as { trial_id: string; series: string; index: number; value: number; 'model.outputScale': number }[];
    const store = Store.open(db, { readonly: true });
    const trials = store.trials('vectors');
    for (const t of trials) {
      const norms = store.series(t.id).find((s) => s.name === 'neurons.norm');
      assert.ok(norms && norms.values.length === 7);
      const exported = rows.filter((r) => r.trial_id === t.id && r.series === 'neurons.norm').sort((a, b) => a.index - b.index);
      assert.deepEqual(exported.map((r) => r.value), norms.values);
      assert.ok(exported.every((r) => r['model.outputScale'] === t.point['model.outputScale']));
    }
    store.close();
    const csv = featlab(['export', 'vectors', '--db', db, '--series']).stdout.split('\n')[0].split(',');
    for (const column of ['trial_id', 'step', 'series', 'index', 'value']) assert.ok(csv.includes(column), column);
    const both = featlab(['export', 'vectors', '--db', db, '--series', '--curves']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--curves and --series are two different tables/);
  });

  it('exports CSV a data frame loads in one line, and JSON', () => {
    const dir = tempDir();
    const file = writeSpec(dir, sweepSpec('csv', [5, 6], 1, 20));
    const db = join(dir, 'c.db');
    assert.equal(featlab(['run', file, '--db', db, '--quiet']).code, 0);
    const csv = featlab(['export', 'csv', '--db', db]).stdout.trim().split('\n');
    assert.equal(csv.length, 1 + 4);
    const header = csv[0].split(',');
    for (const column of ['trial_id', 'model.hiddenWidths.0', 'model.outputScale', 'status', 'test_error', 'feature_learning_strength', 'error_message']) assert.ok(header.includes(column), column);
    assert.ok(!header.includes('error'), 'failure messages live in error_message');
    // FLS = 1/(α·λ²) of each row's own output scale (init scale 1, two layers).
    const fls = header.indexOf('feature_learning_strength');
    const alpha = header.indexOf('model.outputScale');
    for (const line of csv.slice(1)) assert.equal(Number(line.split(',')[fls]), 1 / Number(line.split(',')[alpha]));
    assert.ok(csv.slice(1).every((line) => line.split(',').length === header.length));
    const curves = JSON.parse(featlab(['export', 'csv', '--db', db, '--curves', '--format', 'json']).stdout) as { metric: string; step: number; value: number }[];
    // The trainer's curves under the trial rows' own column names.
    assert.ok(curves.some((c) => c.metric === 'train_loss' && c.step === 0));
    assert.ok(!curves.some((c) => c.metric === 'trainLoss'));
    const unknown = featlab(['export', 'nope', '--db', db]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no experiment "nope" .* it has: csv/);
  });
});
