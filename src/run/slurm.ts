/**
 * An experiment as a Slurm job array: task k of N runs the k-th shard of the trial list into its own
 * store (SQLite on a network file system is not safe for concurrent writers, so no two tasks share
 * one), and a merge job that depends on the whole array (afterany) folds the shards into the
 * experiment's store and writes the report. A task that is killed, preempted or requeued resumes its
 * shard: trials are content-addressed and stored one transaction each, so nothing finished is lost
 * and nothing is stored twice. The job folder holds everything a task needs: a copy of the spec,
 * the two scripts, job.json, the shard stores and the logs.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperimentFile, type Experiment } from '../experiments/experimentSpec.js';
import { inShard } from './shard.js';
import { Store, StoreError } from './store.js';

export interface SlurmResources {
  /** Array tasks (shards); at most the number of distinct trials. */
  readonly tasks: number;
  readonly cpusPerTask: number;
  /** sbatch --mem, e.g. "4G" (per node, i.e. per task). */
  readonly mem?: string;
  readonly partition?: string;
  /** sbatch --time, e.g. "02:00:00". */
  readonly time?: string;
  /** Extra sbatch options, each written as an "#SBATCH …" line (e.g. "--account=lab"). */
  readonly extra: readonly string[];
  /** Let Slurm requeue a task that is preempted or whose node fails (#SBATCH --requeue). */
  readonly requeue: boolean;
}

/** What job.json records: enough for the merge job and `featlab slurm status` to work alone. */
export interface SlurmJob {
  readonly experiment: string;
  /** The spec copied into the job folder (absolute), and the profile it runs. */
  readonly spec: string;
  readonly profile: string | null;
  readonly folder: string;
  /** The store the shards are merged into (absolute). */
  readonly db: string;
  readonly report: string;
  readonly tasks: number;
  /** The command that runs featlab on the nodes, as words. */
  readonly featlab: readonly string[];
  readonly arrayJob: string | null;
  readonly mergeJob: string | null;
}

/** This installation's featlab, run by the Node that runs this process. */
export function defaultFeatlabCommand(): string[] {
  return [process.execPath, fileURLToPath(new URL('../../../bin/featlab.js', import.meta.url))];
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const shell = (words: readonly string[]) => words.map(shellQuote).join(' ');

export function shardStorePath(job: SlurmJob, index: number): string {
  return join(job.folder, `shard-${index}.db`);
}

/** The distinct trials of an experiment: the number of shards that can have work. */
export function distinctTrials(experiment: Experiment): number {
  return new Set(experiment.trials.map((t) => t.id)).size;
}

export function arrayScript(job: SlurmJob, resources: SlurmResources): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# featlab: experiment ${job.experiment} as ${job.tasks} array tasks; task k runs shard k/${job.tasks} into shard-k.db.`,
    `#SBATCH --job-name=featlab-${job.experiment}`,
    `#SBATCH --array=1-${job.tasks}`,
    `#SBATCH --cpus-per-task=${resources.cpusPerTask}`,
    ...(resources.mem ? [`#SBATCH --mem=${resources.mem}`] : []),
    ...(resources.partition ? [`#SBATCH --partition=${resources.partition}`] : []),
    ...(resources.time ? [`#SBATCH --time=${resources.time}`] : []),
    ...(resources.requeue ? ['#SBATCH --requeue'] : []),
    // A requeued task appends to its log instead of overwriting the first run's.
    '#SBATCH --open-mode=append',
    `#SBATCH --output=${join(job.folder, 'logs', 'task-%A_%a.out')}`,
    ...resources.extra.map((e) => `#SBATCH ${e}`),
    'set -euo pipefail',
    'shard="${SLURM_ARRAY_TASK_ID:?run this through sbatch}"',
    `echo "featlab: shard \${shard}/${job.tasks} on $(hostname), restart \${SLURM_RESTART_COUNT:-0}"`,
    `exec ${shell([...job.featlab, 'run', job.spec, ...(job.profile ? ['--profile', job.profile] : [])])} --shard "\${shard}/${job.tasks}" --threads "\${SLURM_CPUS_PER_TASK:-1}" --db ${shellQuote(job.folder)}/shard-"\${shard}".db --no-report --quiet`,
  ];
  return `${lines.join('\n')}\n`;
}

export function mergeScript(job: SlurmJob, resources: SlurmResources): string {
  const lines = [
    '#!/usr/bin/env bash',
    `# featlab: after every task of the array, fold the shard stores into ${job.db} and write the report.`,
    `#SBATCH --job-name=featlab-${job.experiment}-merge`,
    '#SBATCH --cpus-per-task=1',
    ...(resources.partition ? [`#SBATCH --partition=${resources.partition}`] : []),
    ...(resources.time ? [`#SBATCH --time=${resources.time}`] : []),
    '#SBATCH --open-mode=append',
    `#SBATCH --output=${join(job.folder, 'logs', 'merge-%j.out')}`,
    ...resources.extra.map((e) => `#SBATCH ${e}`),
    'set -euo pipefail',
    `exec ${shell([...job.featlab, 'slurm', 'merge', job.folder])}`,
  ];
  return `${lines.join('\n')}\n`;
}

const JOB_FILE = 'job.json';

export function readSlurmJob(folder: string): SlurmJob {
  const path = join(folder, JOB_FILE);
  if (!existsSync(path)) throw new Error(`${folder}: not a featlab Slurm job folder (no ${JOB_FILE}); featlab slurm SPEC writes one`);
  return JSON.parse(readFileSync(path, 'utf8')) as SlurmJob;
}

function writeSlurmJob(job: SlurmJob): void {
  writeFileSync(join(job.folder, JOB_FILE), `${JSON.stringify(job, null, 2)}\n`);
}

export interface PrepareOptions {
  readonly specPath: string;
  readonly profile?: string;
  /** Default: results/<experiment>. */
  readonly folder?: string;
  readonly db: string;
  readonly report?: string;
  readonly featlab?: readonly string[];
}

/**
 * Validates the spec, then writes the job folder: the spec copied in (tasks run what was submitted,
 * whatever happens to the original), job.json, array.sh and merge.sh. Nothing is submitted.
 */
export function prepareSlurmJob(options: PrepareOptions, resources: SlurmResources): { job: SlurmJob; experiment: Experiment } {
  const experiment = loadExperimentFile(options.specPath, options.profile);
  const folder = resolve(options.folder ?? join('results', experiment.spec.name));
  if (existsSync(join(folder, JOB_FILE))) {
    const earlier = readSlurmJob(folder);
    if (earlier.experiment !== experiment.spec.name) throw new Error(`${folder} holds the Slurm job of experiment "${earlier.experiment}"; give another --results folder`);
  }
  mkdirSync(join(folder, 'logs'), { recursive: true });
  const spec = join(folder, `spec${extname(options.specPath) || '.yaml'}`);
  if (resolve(options.specPath) !== spec) copyFileSync(options.specPath, spec);
  const job: SlurmJob = {
    experiment: experiment.spec.name,
    spec,
    profile: options.profile ?? null,
    folder,
    db: resolve(options.db),
    report: resolve(options.report ?? join('reports', experiment.spec.name)),
    tasks: Math.max(1, Math.min(resources.tasks, distinctTrials(experiment))),
    featlab: options.featlab ?? defaultFeatlabCommand(),
    arrayJob: null,
    mergeJob: null,
  };
  writeFileSync(join(folder, 'array.sh'), arrayScript(job, resources), { mode: 0o755 });
  writeFileSync(join(folder, 'merge.sh'), mergeScript(job, resources), { mode: 0o755 });
  writeSlurmJob(job);
  return { job, experiment };
}

/** sbatch --parsable prints "id" or "id;cluster". */
function sbatch(args: readonly string[]): string {
  const out = execFileSync('sbatch', ['--parsable', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const id = out.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch answered "${out.trim()}", not a job id`);
  return id;
}

/** Submits the array, then the merge job after all of its tasks (afterany), and records both ids. */
export function submitSlurmJob(job: SlurmJob): SlurmJob {
  const arrayJob = sbatch([join(job.folder, 'array.sh')]);
  const mergeJob = sbatch([`--dependency=afterany:${arrayJob}`, join(job.folder, 'merge.sh')]);
  const submitted = { ...job, arrayJob, mergeJob };
  writeSlurmJob(submitted);
  return submitted;
}

export interface ShardProgress {
  readonly index: number;
  /** Distinct trials of this shard. */
  readonly trials: number;
  /** Stored as completed or diverged (final), and stored as failed (retried on a rerun). */
  readonly finished: number;
  readonly failed: number;
  readonly store: boolean;
}

/** How far each shard is, read from the shard stores (read-only; safe while tasks write). */
export function slurmProgress(job: SlurmJob): ShardProgress[] {
  const experiment = loadExperimentFile(job.spec, job.profile ?? undefined);
  return Array.from({ length: job.tasks }, (_, i) => {
    const shard = { index: i + 1, count: job.tasks };
    const ids = [...new Set(experiment.trials.filter((t) => inShard(t.position, shard)).map((t) => t.id))];
    const path = shardStorePath(job, shard.index);
    const absent = { index: shard.index, trials: ids.length, finished: 0, failed: 0, store: false };
    if (!existsSync(path)) return absent;
    let store: Store;
    try {
      store = Store.open(path, { readonly: true });
    } catch (e) {
      // Created by its task a moment ago, before its first commit.
      if (e instanceof StoreError && /no such store/.test(e.message)) return absent;
      throw e;
    }
    try {
      const finished = store.finishedIds(ids).size;
      const failed = store.failedIds(ids).size;
      return { index: shard.index, trials: ids.length, finished, failed, store: true };
    } finally {
      store.close();
    }
  });
}

/** Tasks of the array still queued or running, as job_task ids (a requeued task is pending again). */
function liveTasks(arrayJob: string): string[] {
  try {
    const out = execFileSync('squeue', ['--noheader', '--array', '--jobs', arrayJob, '--format', '%i'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^\d+(_\d+)?$/.test(l));
  } catch {
    return [];
  }
}

export type MergeOutcome =
  | { readonly kind: 'merged'; readonly trials: number; readonly shards: number }
  | { readonly kind: 'waiting'; readonly mergeJob: string; readonly unfinished: readonly number[] }
  | { readonly kind: 'incomplete'; readonly unfinished: readonly number[] };

/**
 * Folds the shard stores into the job's store once every shard has a final or failed record for each
 * of its trials. If some shard is behind while tasks of the array are still queued (a requeued task),
 * the merge resubmits itself after them; if none are left, it merges nothing and names the shards to
 * rerun. Merging the same shard twice changes nothing.
 */
export function mergeSlurmJob(job: SlurmJob, resubmit = true): MergeOutcome {
  const progress = slurmProgress(job);
  const unfinished = progress.filter((p) => p.finished + p.failed < p.trials).map((p) => p.index);
  if (unfinished.length) {
    const live = resubmit && job.arrayJob ? liveTasks(job.arrayJob) : [];
    if (live.length > 0) {
      // After the tasks themselves: once every task had ended, the array as a whole counts as done for
      // Slurm even when one of them is requeued later.
      try {
        const mergeJob = sbatch([`--dependency=afterany:${live.join(':')}`, join(job.folder, 'merge.sh')]);
        writeSlurmJob({ ...job, mergeJob });
        return { kind: 'waiting', mergeJob, unfinished };
      } catch (e) {
        process.stderr.write(`featlab: could not resubmit the merge after tasks ${live.join(', ')} (${(e as Error).message.split('\n')[0]})\n`);
      }
    }
    return { kind: 'incomplete', unfinished };
  }
  const store = Store.open(job.db);
  let trials = 0;
  try {
    for (const p of progress) if (p.store) trials += store.merge(shardStorePath(job, p.index)).trials;
  } finally {
    store.close();
  }
  return { kind: 'merged', trials, shards: progress.length };
}
