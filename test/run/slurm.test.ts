/**
 * featlab slurm against a running one-node Slurm (munged, slurmctld, slurmd on 127.0.0.1): a built-in's
 * quick profile as a 4-task array merged equals the local run trial for trial; a task cancelled
 * mid-run and requeued resumes its shard with nothing lost or stored twice. Skipped, with the reason
 * printed, only where Slurm cannot be installed; in CI it must run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinPath } from '../../src/experiments/builtins.js';
import { loadExperimentFile } from '../../src/experiments/experimentSpec.js';
import { runExperiment } from '../../src/run/executor.js';
import { SilentProgress } from '../../src/run/progress.js';
import { readSlurmJob, slurmProgress, type SlurmJob } from '../../src/run/slurm.js';
import { Store } from '../../src/run/store.js';
import { bin, storedNumbers, tempDir, writeSpec } from './fixtures.js';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from './slurmCluster.js';

const unavailable = slurmUnavailable();
if (unavailable && process.env.CI === 'true') throw new Error(`CI installs Slurm (.ci/run), yet: ${unavailable}`);
if (unavailable) process.stdout.write(`# skipping the Slurm tests: ${unavailable}\n`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('featlab slurm on a running Slurm', { skip: unavailable ?? false }, () => {
  const dir = tempDir();
  let cluster: SlurmCluster;

  before(async () => {
    cluster = await startSlurmCluster(join(dir, 'cluster'));
  });
  after(() => cluster?.stop());

  function submit(args: string[]): SlurmJob {
    const r = spawnSync(process.execPath, [bin, 'slurm', ...args], { encoding: 'utf8', env: cluster.env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /submitted .*array job \d+ .*merge job \d+/);
    const folder = args[args.indexOf('--results') + 1];
    return readSlurmJob(folder);
  }

  /** Job ids (array tasks expanded) still in the queue. */
  function queued(ids: readonly string[]): string[] {
    return cluster
      .run('squeue', ['--noheader', '--array', '--jobs', ids.join(','), '--format=%i %T'])
      .split('\n')
      .filter((l) => l.trim());
  }

  async function waitForMerge(folder: string, timeoutMs = 240_000): Promise<SlurmJob> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = readSlurmJob(folder);
      const logs = readdirSync(join(folder, 'logs')).filter((f) => f.startsWith('merge-'));
      const merged = logs.some((f) => /^merged \d+ shard stores/m.test(readFileSync(join(folder, 'logs', f), 'utf8')));
      if (merged && queued([job.arrayJob as string, job.mergeJob as string]).length === 0) return job;
      if (Date.now() > deadline) throw new Error(`no merge within ${timeoutMs / 1000} s; queue: ${queued([job.arrayJob as string]).join('; ')}; logs: ${logs.join(', ')}`);
      await sleep(500);
    }
  }

  it("a built-in's quick profile as a 4-task array, merged, equals the local run trial for trial", async () => {
    const local = join(dir, 'local.db');
    const store = Store.open(local);
    await runExperiment(loadExperimentFile(builtinPath('jacobian') as string, 'quick'), { store, threads: 2, progress: new SilentProgress() });
    store.close();
    const folder = join(dir, 'jacobian');
    const merged = join(dir, 'merged.db');
    const job = submit(['jacobian', '--quick', '--tasks', '4', '--cpus-per-task', '1', '--results', folder, '--db', merged]);
    assert.equal(job.tasks, 4);
    await waitForMerge(folder);
    for (let k = 1; k <= 4; k++) assert.ok(existsSync(join(folder, `shard-${k}.db`)), `shard ${k} has its own store`);
    const ours = storedNumbers(merged, 'jacobian-quick');
    const theirs = storedNumbers(local, 'jacobian-quick');
    assert.equal(ours.trials.length, 9);
    assert.deepEqual(ours.trials, theirs.trials, 'same ids, same numbers');
    assert.deepEqual(ours.curves, theirs.curves);
    // Merging again changes nothing.
    const again = spawnSync(process.execPath, [bin, 'slurm', 'merge', folder], { encoding: 'utf8', env: cluster.env });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /: 0 trials new there/);
    assert.deepEqual(storedNumbers(merged, 'jacobian-quick').trials, theirs.trials);
  });

  it('a task cancelled mid-run and requeued resumes its shard: nothing lost, nothing stored twice', async () => {
    // Eight trials of different widths (separate jobs, so a shard stores them one by one), about a second each.
    const spec = writeSpec(dir, {
      name: 'requeue',
      base: {
        model: { hiddenWidths: [100] },
        data: { task: 'teacher', inputDim: 10, teacherWidth: 3, n: 400, nTest: 100 },
        training: { learningRate: 0.2, stop: { maxSteps: 2500 } },
      },
      sweep: { grid: { 'model.hiddenWidths.0': [100, 110, 120, 130, 140, 150, 160, 170] } },
    }, 'requeue.yaml');
    const local = join(dir, 'requeue-local.db');
    const store = Store.open(local);
    await runExperiment(loadExperimentFile(spec), { store, threads: 2, progress: new SilentProgress() });
    store.close();
    const folder = join(dir, 'requeue');
    const merged = join(dir, 'requeue.db');
    const job = submit([spec, '--tasks', '2', '--cpus-per-task', '1', '--results', folder, '--db', merged]);
    const task = `${job.arrayJob}_1`;
    // Cancel task 1 once its shard has stored a trial but not all four.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const done = slurmProgress(job)[0].finished;
      {
        if (done >= 1) {
          assert.ok(done < 4, 'the cancel lands mid-shard');
          break;
        }
      }
      if (Date.now() > deadline) throw new Error('task 1 stored nothing in time');
      await sleep(100);
    }
    // Held, the merge job cannot start between the cancel and the requeue, when no task is queued.
    cluster.run('scontrol', ['hold', job.mergeJob as string]);
    cluster.run('scancel', [task]);
    // Wait for the whole array to end (task 2 finishes its shard): Slurm then counts the array as done, and
    // the released merge job must notice the requeued task and wait for it by itself.
    for (let i = 0; queued([job.arrayJob as string]).length > 0 && i < 1200; i++) await sleep(100);
    cluster.run('scontrol', ['requeue', task]);
    // A requeued job waits a while before it is eligible again; let it start now.
    cluster.run('scontrol', ['update', `JobId=${task}`, 'StartTime=now']);
    cluster.run('scontrol', ['release', job.mergeJob as string]);
    await waitForMerge(folder);
    const log = readdirSync(join(folder, 'logs'))
      .filter((f) => f.endsWith('_1.out'))
      .map((f) => readFileSync(join(folder, 'logs', f), 'utf8'))
      .join('\n');
    assert.match(log, /restart 1/, 'the task ran again after the requeue');
    assert.match(log, /[1-9]\d* already stored/, 'and resumed its shard');
    const ours = storedNumbers(merged, 'requeue');
    assert.equal(ours.trials.length, 8, '0 lost');
    assert.equal(new Set(ours.trials.map((t) => t.trial_id)).size, 8, '0 duplicated');
    assert.ok(ours.trials.every((t) => t.status === 'completed'));
    assert.deepEqual(ours.trials, storedNumbers(local, 'requeue').trials);
  });
});
