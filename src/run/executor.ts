/**
 * Runs an experiment's trials on a pool of worker threads and writes each finished trial to the
 * store as it arrives. Stored trials are skipped (unless forced), ensemble-compatible trials are
 * batched on the ensemble axis, and a stop request or a crashed worker loses no finished result.
 */
import { applyBlasCoreType } from '../linalg/cpuKernels.js';
import { convergenceRules } from '../train/stopping.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Experiment, ExpandedTrial } from '../experiments/experimentSpec.js';
import { trialKindOf } from '../experiments/trialKinds.js';
import { failedRecord, type TrialJob } from './execute.js';
import type { Progress } from './progress.js';
import type { TrialRecord } from './record.js';
import { inShard, type Shard } from './shard.js';
import type { Store } from './store.js';

export interface RunOptions {
  readonly store: Store;
  /** Worker threads; default one per core. */
  readonly threads?: number;
  readonly force?: boolean;
  readonly shard?: Shard;
  readonly progress: Progress;
  /** How often progress hears of the steps taken while trials run (default 1000 ms). */
  readonly progressIntervalMs?: number;
  /** Largest ensemble one job trains (default 64). */
  readonly maxEnsemble?: number;
  /** Aborting stops dispatching, ends the workers and returns with what was stored. */
  readonly signal?: AbortSignal;
}

export interface RunSummary {
  readonly total: number;
  readonly skipped: number;
  readonly ran: number;
  readonly completed: number;
  readonly diverged: number;
  readonly failed: number;
  readonly interrupted: boolean;
  readonly seconds: number;
}

export function defaultThreads(): number {
  return availableParallelism();
}

/** Groups trials by their kind's group key (keeping sweep order), then cuts groups so every thread gets work. */
export function planJobs(trials: readonly ExpandedTrial[], threads: number, maxEnsemble: number): TrialJob[][] {
  const groups = new Map<string, TrialJob[]>();
  for (const t of trials) {
    const key = trialKindOf(t.spec).groupKey(t.spec, t.id);
    const group = groups.get(key) ?? [];
    group.push({ id: t.id, spec: t.spec });
    groups.set(key, group);
  }
  const size = Math.max(1, Math.min(maxEnsemble, Math.ceil(trials.length / Math.max(1, threads))));
  const jobs: TrialJob[][] = [];
  for (const group of groups.values()) for (let i = 0; i < group.length; i += size) jobs.push(group.slice(i, i + size));
  return jobs;
}

export async function runExperiment(experiment: Experiment, options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const { store, progress } = options;
  store.registerExperiment(experiment.spec, experiment.trials);
  const mine = experiment.trials.filter((t) => inShard(t.position, options.shard));
  const unique = [...new Map(mine.map((t) => [t.id, t])).values()];
  const finished = options.force ? new Set<string>() : store.finishedIds(unique.map((t) => t.id));
  const todo = unique.filter((t) => !finished.has(t.id));
  const configs = new Map(todo.map((t) => [t.id, t.spec]));
  const threads = Math.max(1, Math.min(options.threads ?? defaultThreads(), todo.length));
  const jobs = planJobs(todo, threads, options.maxEnsemble ?? 64);
  const counts = { completed: 0, diverged: 0, failed: 0 };
  progress.start(todo.length, finished.size);
  // Work in member-steps. Before any trial finishes, each counts its step budget (maxSteps), unless a
  // stop rule may end it early (then there is no estimate yet); after, the mean steps the finished
  // ones took; running jobs add the steps their workers have taken so far.
  const budgetWork = todo.some((t) => convergenceRules(t.spec.training.stop).length > 0) ? 0 : todo.reduce((sum, t) => sum + t.spec.training.stop.maxSteps, 0);
  let finishedSteps = 0;
  let finishedTrials = 0;
  // Each worker's member-steps in its current job, in memory it shares with this thread.
  const counterOf = new Map<Worker, Float64Array>();
  // Member-steps of trials a worker's current job already stored (counted in finishedSteps, not again as live).
  const creditedOf = new Map<Worker, number>();
  const workFraction = () => {
    let live = 0;
    for (const [w, c] of counterOf) live += Math.max(0, c[0] - (creditedOf.get(w) ?? 0));
    const expected = finishedTrials > 0 ? finishedSteps + (todo.length - finishedTrials) * (finishedSteps / finishedTrials) : budgetWork;
    if (!(expected > 0)) return undefined;
    const done = finishedSteps + live;
    return finishedTrials === todo.length ? 1 : Math.min(0.99, done / Math.max(expected, done));
  };
  const update = () => progress.update(counts.completed + counts.diverged + counts.failed, counts.failed, workFraction());

  const record = (r: TrialRecord) => {
    store.writeTrial(configs.get(r.id), r);
    counts[r.status]++;
    finishedSteps += r.steps ?? 0;
    finishedTrials++;
  };
  const ticker = setInterval(update, options.progressIntervalMs ?? 1000);
  ticker.unref();

  let interrupted = false;
  // Set on a stop: every worker's training loop sees it between two steps and gives its trials up unstored.
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  // The workers load the BLAS; its core type must be in the process's environment first.
  applyBlasCoreType();
  if (jobs.length > 0)
    await new Promise<void>((resolve) => {
      const workers = new Set<Worker>();
      let next = 0;
      let running = 0;
      const finish = () => {
        for (const w of workers) void w.terminate();
        workers.clear();
        resolve();
      };
      // A stop sets the shared flag: the jobs in flight end at their next step boundary, unstored, and
      // their workers exit normally (never torn down inside native code); a second Ctrl-C kills outright.
      const onAbort = () => {
        interrupted = true;
        Atomics.store(stopFlag, 0, 1);
        if (running === 0) finish();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const dispatch = (worker: Worker) => {
        if (interrupted || next >= jobs.length) {
          workers.delete(worker);
          worker.removeAllListeners();
          void worker.terminate();
          if (running === 0) {
            options.signal?.removeEventListener('abort', onAbort);
            finish();
          }
          return;
        }
        const jobId = next++;
        running++;
        let settled = false;
        // Trials of this job stored as they stopped, before the job's end.
        const stored = new Set<string>();
        const settle = (records: TrialRecord[]) => {
          if (settled) return;
          settled = true;
          running--;
          // The job's steps now count as its trials' budgets; the worker starts its next job at 0.
          counterOf.get(worker)?.fill(0);
          creditedOf.set(worker, 0);
          records.filter((r) => !stored.has(r.id)).forEach(record);
          update();
        };
        worker.removeAllListeners();
        worker.on('message', (msg: { jobId: number; records?: TrialRecord[]; partial?: TrialRecord }) => {
          if (msg.partial) {
            if (settled || stored.has(msg.partial.id)) return;
            stored.add(msg.partial.id);
            creditedOf.set(worker, (creditedOf.get(worker) ?? 0) + (msg.partial.steps ?? 0));
            record(msg.partial);
            update();
            return;
          }
          worker.removeAllListeners('message');
          settle(msg.records ?? []);
          dispatch(worker);
        });
        // A worker that dies takes its job's unstored trials with it as failures; a fresh worker carries on.
        const crashed = (reason: string) => {
          if (settled) return;
          settle(jobs[jobId].filter((t) => !stored.has(t.id)).map((t) => failedRecord(t.id, `worker died: ${reason}`)));
          workers.delete(worker);
          if (interrupted) {
            if (running === 0) finish();
            return;
          }
          dispatch(spawn());
        };
        worker.once('error', (e: Error) => crashed(e.message));
        worker.once('exit', (code) => crashed(`exit code ${code}`));
        worker.postMessage({ jobId, trials: jobs[jobId] });
      };
      const spawn = () => {
        const steps = new SharedArrayBuffer(8);
        const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { stop: stopFlag.buffer, steps } });
        counterOf.set(w, new Float64Array(steps));
        workers.add(w);
        return w;
      };
      for (let i = 0; i < Math.min(threads, jobs.length); i++) dispatch(spawn());
    });
  clearInterval(ticker);
  progress.stop();
  const ran = counts.completed + counts.diverged + counts.failed;
  return {
    total: experiment.trials.length,
    skipped: finished.size,
    ran,
    ...counts,
    // A stop that came after the last trial finished interrupted nothing.
    interrupted: interrupted && ran < todo.length,
    seconds: (performance.now() - started) / 1000,
  };
}
