import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseExperiment } from '../../src/experiments/experimentSpec.js';
import { runExperiment } from '../../src/run/executor.js';
import { SilentProgress } from '../../src/run/progress.js';
import { Store } from '../../src/run/store.js';
import { startServer, type RunningServer } from '../../src/web/server/serve.js';

/** A raw GET: the path goes out exactly as written (no client-side normalization of "..") */
function get(server: RunningServer, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string; headers: Record<string, unknown> }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('explorer server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'featlab-serve-'));
  const appDir = join(dir, 'app');
  const storePath = join(dir, 'store.db');
  let server: RunningServer;
  let trialId = '';

  before(async () => {
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
    const experiment = parseExperiment({
      name: 'tiny',
      base: { model: { hiddenWidths: [6] }, data: { task: 'xor', n: 20, nTest: 50 }, training: { learningRate: 0.5, stop: { maxSteps: 30 } } },
      sweep: { grid: { 'model.outputScale': [0.5, 2] } },
    });
    const store = Store.open(storePath);
    const summary = await runExperiment(experiment, { store, threads: 1, progress: new SilentProgress() });
    store.close();
    assert.equal(summary.completed, 2);
    trialId = experiment.trials[0].id;
    server = await startServer({ host: '127.0.0.1', port: 0, storePath, appDir });
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists experiments and serves one with figures, axes and rows', async () => {
    const list = await get(server, '/api/experiments');
    assert.equal(list.status, 200);
    assert.deepEqual((JSON.parse(list.body) as { experiments: { name: string }[] }).experiments.map((e) => e.name), ['tiny']);
    const one = JSON.parse((await get(server, '/api/experiments/tiny')).body) as { axes: string[]; rows: unknown[]; figures: { id: string }[] };
    assert.deepEqual(one.axes, ['model.outputScale']);
    assert.equal(one.rows.length, 2);
    assert.ok(one.figures.some((f) => f.id === 'test_error'));
    const filtered = JSON.parse((await get(server, '/api/experiments/tiny?status=failed')).body) as { rows: unknown[] };
    assert.equal(filtered.rows.length, 0);
  });

  it('serves a trial with its curves, the spec and the CSV as downloads', async () => {
    const trial = JSON.parse((await get(server, `/api/trials/${trialId}`)).body) as { id: string; experiments: string[]; curves: { name: string }[] };
    assert.equal(trial.id, trialId);
    assert.deepEqual(trial.experiments, ['tiny']);
    assert.ok(trial.curves.some((c) => c.name === 'trainLoss'));
    const csv = await get(server, '/api/experiments/tiny/results.csv');
    assert.match(csv.type, /text\/csv/);
    assert.equal(csv.body.trim().split('\n').length, 3);
    assert.equal((JSON.parse((await get(server, '/api/experiments/tiny/spec.json')).body) as { name: string }).name, 'tiny');
  });

  it('answers bad requests with 4xx and a message', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/experiments/nope', 404, /no experiment "nope"/],
      ['/api/trials/0123456789abcdef', 404, /no trial/],
      ['/api/trials/not-an-id', 400, /16 hexadecimal digits/],
      ['/api/experiments/tiny?status=weird', 400, /allowed: completed, diverged, failed, pending/],
      ['/api/experiments?limit=3', 400, /unknown query parameter "limit"/],
      ['/api/experiments/tiny/other.txt', 404, /spec\.json and results\.csv/],
      ['/api/nothing', 404, /routes:/],
      ['/api/experiments/%E0%A4%A', 400, /percent-encoding/],
      ['/missing.js', 404, /no such file/],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(server, path);
      assert.equal(r.status, status, path);
      assert.match((JSON.parse(r.body) as { error: string }).error, message, path);
    }
    assert.equal((await get(server, '/api/experiments', 'POST')).status, 405);
  });

  it('refuses paths that climb out of the app, however they are spelled', async () => {
    for (const path of ['/../secret.txt', '/..%2Fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%5C..%5Csecret.txt', '/api/experiments/..%2F..%2Fsecret.txt']) {
      const r = await get(server, path);
      assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /not for the browser/);
    }
  });

  it('answers the app routes with the app', async () => {
    for (const path of ['/', '/lab?toy=xor', '/results/tiny']) {
      const r = await get(server, path);
      assert.equal(r.status, 200, path);
      assert.match(r.body, /<title>app<\/title>/);
    }
  });

  it('answers only requests that name it: DNS rebinding and other sites are refused', async () => {
    for (const host of ['attacker.example', 'attacker.example:5170', '127.0.0.1.evil.test']) {
      const r = await get(server, '/api/experiments', 'GET', { host });
      assert.equal(r.status, 403, host);
      assert.match((JSON.parse(r.body) as { error: string }).error, /not this explorer's address/);
      assert.doesNotMatch(r.body, /tiny/);
    }
    for (const host of ['localhost', `localhost:${new URL(server.url).port}`, '[::1]:80']) assert.equal((await get(server, '/api/experiments', 'GET', { host })).status, 200, host);
    const foreign = await get(server, '/api/experiments', 'GET', { origin: 'https://attacker.example' });
    assert.equal(foreign.status, 403);
    assert.equal((await get(server, '/api/experiments', 'GET', { origin: server.url.replace(/\/$/, '') })).status, 200);
  });

  it('sends no-sniff and a content security policy, and names the store by its file name only', async () => {
    const r = await get(server, '/api/experiments');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal((JSON.parse(r.body) as { store: string }).store, 'store.db');
    for (const path of ['/api/experiments', '/api/experiments/nope', '/api/trials/0123456789abcdef']) assert.ok(!(await get(server, path)).body.includes(dir), `${path} shows no absolute path`);
  });

  it('answers 422 with a message for a store it cannot read', async () => {
    const folder = join(dir, 'a-folder.db');
    mkdirSync(folder);
    const other = await startServer({ host: '127.0.0.1', port: 0, storePath: folder, appDir });
    try {
      const r = await get(other, '/api/experiments');
      assert.equal(r.status, 422);
      assert.match((JSON.parse(r.body) as { error: string }).error, /^a-folder\.db: is a folder/);
    } finally {
      await other.close();
    }
  });
});
