import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseExperiment } from '../../src/experiments/experimentSpec.js';
import { APPLICATION_ID, SCHEMA_VERSION, Store, StoreError } from '../../src/run/store.js';
import type { TrialRecord } from '../../src/run/record.js';
import { bin, tempDir } from './fixtures.js';

function record(id: string, status: TrialRecord['status'], trainLoss: number): TrialRecord {
  const point = { step: 3, time: 0.3, trainLoss, trainError: 0, testLoss: trainLoss * 2, testError: null, metrics: { alignment: 0.5 } };
  return { id, status, stopReason: status === 'failed' ? null : 'maxSteps', error: status === 'failed' ? 'boom' : null, steps: 3, time: 0.3, seconds: 0.01, final: point, curve: [{ ...point, step: 0, time: 0 }, point], series: [{ name: 'spectrum', step: 3, values: [3, 2, 1] }] };
}

describe('results store', () => {
  it('creates a versioned featlab store in WAL mode (rollback journal once closed) and writes a trial exactly once', () => {
    const path = join(tempDir(), 'a.db');
    const experiment = parseExperiment({ name: 'e', sweep: { seeds: 2 } });
    const store = Store.open(path);
    store.registerExperiment(experiment.spec, experiment.trials);
    const [t0, t1] = experiment.trials;
    store.writeTrial(t0.spec, record(t0.id, 'completed', 0.5));
    store.writeTrial(t0.spec, record(t0.id, 'completed', 0.25));
    store.writeTrial(t1.spec, record(t1.id, 'failed', 0));
    assert.deepEqual([...store.finishedIds([t0.id, t1.id])], [t0.id], 'failed trials are retried');
    const trials = store.trials('e');
    assert.deepEqual(trials.map((t) => t.status), ['completed', 'failed']);
    assert.equal(trials[0].final?.trainLoss, 0.25);
    // The stored config reads back as the spec that ran, typed, its non-finite default included.
    assert.deepEqual(trials[0].spec, t0.spec);
    assert.equal(trials[0].spec?.training.gradientFlow.maxStep, Infinity);
    assert.deepEqual(store.series(t0.id), [{ name: 'spectrum', step: 3, values: [3, 2, 1] }]);
    assert.equal(store.curves([t0.id]).filter((c) => c.name === 'alignment').length, 2);
    assert.deepEqual(store.experiments()[0], { ...store.experiments()[0], trials: 2, completed: 1, failed: 1, pending: 0 });
    const reader = Store.open(path, { readonly: true });
    assert.equal(reader.trials('e').length, 2, 'a reader sees the writer’s commits while it is open');
    reader.close();
    store.close();
    assert.equal(existsSync(`${path}-wal`) || existsSync(`${path}-shm`), false, 'no -wal/-shm left once closed');
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('application_id', { simple: true }), APPLICATION_ID);
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'delete');
    assert.equal((raw.prepare('SELECT count(*) AS n FROM trials').get() as { n: number }).n, 2);
    raw.close();
  });

  it('refuses a file that is not SQLite and leaves it as it was', () => {
    const path = join(tempDir(), 'notes.db');
    writeFileSync(path, 'my precious notes\n'.repeat(100));
    const before = readFileSync(path);
    assert.throws(() => Store.open(path), (e: Error) => e instanceof StoreError && /not a featlab store \(not a SQLite database\)/.test(e.message));
    assert.deepEqual(readFileSync(path), before);
  });

  it('refuses a SQLite database of another program and leaves it as it was', () => {
    const path = join(tempDir(), 'other.db');
    const other = new Database(path);
    other.exec("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('ada')");
    other.close();
    const before = readFileSync(path);
    assert.throws(() => Store.open(path), /another program .* not a featlab store/);
    assert.deepEqual(readFileSync(path), before);
  });

  it("calls another program's database with a schema version of its own foreign and leaves no -wal/-shm beside it", () => {
    const dir = tempDir();
    const path = join(dir, 'versioned.db');
    const other = new Database(path);
    other.pragma('journal_mode = WAL');
    other.exec('CREATE TABLE t (x); PRAGMA user_version = 7');
    other.close();
    assert.throws(() => Store.open(path, { readonly: true }), /another program \(application_id 0, user_version 7\)/);
    assert.throws(() => Store.open(path), /another program/);
    assert.equal(existsSync(`${path}-wal`) || existsSync(`${path}-shm`), false);
  });

  // Root reads everything, so the store is read as nobody: that needs root and a nobody user (CI has both, so there it runs).
  const canSwitchUser = process.env.CI === 'true' || (process.getuid?.() === 0 && spawnSync('id', ['nobody']).status === 0);
  it('reads a store in a folder it cannot write, as another user, and refuses to run into it', { skip: canSwitchUser ? false : 'needs root and a "nobody" user to act as another user' }, () => {
    const dir = tempDir();
    // A store in a folder only its owner may write, listed by another user.
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    const store = Store.open(join(shared, 's.db'));
    const e = parseExperiment({ name: 'e', sweep: { seeds: 1 } });
    store.registerExperiment(e.spec, e.trials);
    store.close();
    chmodSync(dir, 0o755);
    chmodSync(shared, 0o555);
    chmodSync(join(shared, 's.db'), 0o444);
    const r = spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', `${process.execPath} ${bin} ls --db ${join(shared, 's.db')}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\s*e\s+1\s/m);
    assert.deepEqual(readdirSync(shared), ['s.db'], 'nothing written beside it');
    // Running into that read-only store: one line, exit 2.
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ name: 'e2', base: { data: { n: 10, nTest: 5 }, training: { stop: { maxSteps: 2 } } } }));
    chmodSync(join(dir, 'spec.json'), 0o644);
    const run = spawnSync('su', ['nobody', '-s', '/bin/sh', '-c', `${process.execPath} ${bin} run ${join(dir, 'spec.json')} --db ${join(shared, 's.db')} --quiet`], { encoding: 'utf8' });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^featlab: [^\n]*s\.db[^\n]*(not writable|readonly|read-only)[^\n]*\n$/i);
  });

  it('refuses a truncated store with a clear error', () => {
    const dir = tempDir();
    const path = join(dir, 'good.db');
    const store = Store.open(path);
    store.close();
    const bytes = readFileSync(path);
    const broken = join(dir, 'broken.db');
    writeFileSync(broken, Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(50, 7)]));
    const before = readFileSync(broken);
    assert.throws(() => Store.open(broken), StoreError);
    assert.deepEqual(readFileSync(broken), before);
  });

  it('a read-only open of a missing store says how to make one', () => {
    assert.throws(() => Store.open(join(tempDir(), 'none.db'), { readonly: true }), /no such store/);
  });

  it('names the experiments it has when asked for an unknown one', () => {
    const store = Store.open(join(tempDir(), 'b.db'));
    const e = parseExperiment({ name: 'alpha' });
    store.registerExperiment(e.spec, e.trials);
    assert.throws(() => store.trials('beta'), /no experiment "beta" .* it has: alpha/);
    store.close();
  });
});
