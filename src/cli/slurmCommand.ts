/** `featlab slurm SPEC | status DIR | merge DIR`: an experiment as a Slurm job array, its progress and its merge. */
import { execFileSync } from 'node:child_process';
import { Command } from 'commander';
import { writeExperimentReport } from '../report/index.js';
import { mergeSlurmJob, prepareSlurmJob, readSlurmJob, slurmProgress, submitSlurmJob, type SlurmResources } from '../run/slurm.js';
import { Store } from '../run/store.js';
import { UsageError } from './errors.js';
import { addLimitOptions, dbOption, EXIT_TRIALS_FAILED, limitsOf, loadCheckedExperiment, positiveInteger, resolveSpec } from './experimentCommands.js';
import { collect } from './train.js';
import { table } from './format.js';

function hasCommand(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface SubmitFlags {
  db: string;
  tasks: string;
  cpusPerTask: string;
  mem?: string;
  partition?: string;
  time?: string;
  sbatch: string[];
  requeue: boolean;
  results?: string;
  profile?: string;
  quick?: boolean;
  featlab?: string;
  dryRun?: boolean;
  maxTrials?: string;
  maxMemory?: string;
}

function resourcesOf(flags: SubmitFlags): SlurmResources {
  if (flags.mem !== undefined && !/^\d+[KMGT]?$/i.test(flags.mem)) throw new UsageError(`--mem: a size like 4G, 500M or 4096 (megabytes), got "${flags.mem}"`);
  if (flags.time !== undefined && !/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(flags.time)) throw new UsageError(`--time: a Slurm time limit like 90, 02:00:00 or 1-12:00:00, got "${flags.time}"`);
  if (flags.partition !== undefined && !/^[\w.,-]+$/.test(flags.partition)) throw new UsageError(`--partition: a partition name (letters, digits, . _ - ,), got "${flags.partition}"`);
  for (const line of flags.sbatch) if (!/^--?\w/.test(line) || /[\n\r]/.test(line)) throw new UsageError(`--sbatch: one sbatch option per flag, starting with - (e.g. --sbatch=--account=lab), got "${line}"`);
  return {
    tasks: positiveInteger('--tasks', flags.tasks),
    cpusPerTask: positiveInteger('--cpus-per-task', flags.cpusPerTask),
    mem: flags.mem,
    partition: flags.partition,
    time: flags.time,
    extra: flags.sbatch,
    requeue: flags.requeue,
  };
}

function submitCommand(): Command {
  return addLimitOptions(new Command('submit'))
    .description('run an experiment as a Slurm job array (one shard store per task) and a merge job after it')
    .argument('<spec>', 'spec file or built-in name')
    .addOption(dbOption().default('featlab.db', 'featlab.db: the store the shards are merged into'))
    .option('--tasks <n>', 'array tasks (shards), at most the number of distinct trials', '8')
    .option('--cpus-per-task <n>', 'cores per task (its worker threads)', '2')
    .option('--mem <size>', 'memory per task (sbatch --mem), e.g. 4G')
    .option('--partition <name>', 'the partition to run in')
    .option('--time <limit>', 'time limit per task (sbatch --time), e.g. 02:00:00')
    .option('--sbatch <option>', 'an extra sbatch option written as an #SBATCH line (repeatable), e.g. --sbatch=--account=lab', collect, [])
    .option('--no-requeue', 'do not let Slurm requeue preempted tasks')
    .option('--results <dir>', 'the job folder: scripts, spec copy, shard stores, logs (default: results/<experiment>)')
    .option('--profile <name>', "one of the spec's profiles")
    .option('--quick', 'the quick profile (same as --profile quick)')
    .option('--featlab <command>', 'the command that runs featlab on the nodes (default: this installation, by this Node)')
    .option('--dry-run', 'write the job folder and print the sbatch commands without submitting')
    .action((spec: string, flags: SubmitFlags) => {
      const resources = resourcesOf(flags);
      if (flags.quick && flags.profile && flags.profile !== 'quick') throw new UsageError('--quick and --profile name two different profiles; give one');
      if (!flags.dryRun && !hasCommand('sbatch')) throw new UsageError("sbatch: not found; featlab slurm needs Slurm's client commands on this machine (or --dry-run to only write the scripts)");
      const specPath = resolveSpec(spec);
      const profile = flags.quick ? 'quick' : flags.profile;
      loadCheckedExperiment(specPath, profile, limitsOf(flags));
      const { job: prepared, experiment } = prepareSlurmJob(
        {
          specPath,
          profile,
          folder: flags.results,
          db: flags.db,
          featlab: flags.featlab?.split(/\s+/).filter(Boolean),
        },
        resources,
      );
      const lines: string[] = [];
      const trials = new Set(experiment.trials.map((t) => t.id)).size;
      if (flags.dryRun) {
        lines.push(`wrote ${prepared.folder}/array.sh and merge.sh for ${prepared.experiment}: ${prepared.tasks} tasks over ${trials} trials; submit with`, `  id=$(sbatch --parsable ${prepared.folder}/array.sh) && sbatch --dependency=afterany:$id ${prepared.folder}/merge.sh`);
      } else {
        const job = submitSlurmJob(prepared);
        lines.push(
          `submitted ${job.experiment}: array job ${job.arrayJob} (${job.tasks} tasks over ${trials} trials), merge job ${job.mergeJob} after it`,
          `job folder: ${job.folder} (array.sh, merge.sh, logs/, shard-K.db)`,
          `progress:   featlab slurm status ${job.folder}    (squeue -j ${job.arrayJob},${job.mergeJob})`,
          `when done:  featlab show ${job.experiment} --db ${job.db}; report in ${job.report}`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

function statusCommand(): Command {
  return new Command('status')
    .description('how far each shard of a Slurm job is, read from its shard stores')
    .argument('<dir>', 'the job folder (featlab slurm printed it)')
    .action((dir: string) => {
      const job = readJob(dir);
      const progress = slurmProgress(job);
      const rows = progress.map((p) => [String(p.index), String(p.trials), String(p.finished), String(p.failed), String(p.trials - p.finished - p.failed), p.store ? 'yes' : 'not yet']);
      const total = progress.reduce((a, p) => ({ trials: a.trials + p.trials, finished: a.finished + p.finished, failed: a.failed + p.failed }), { trials: 0, finished: 0, failed: 0 });
      process.stdout.write(`${table(['shard', 'trials', 'finished', 'failed', 'to do', 'store'], rows)}\n${job.experiment}: ${total.finished} of ${total.trials} trials finished, ${total.failed} failed; array job ${job.arrayJob ?? '(not submitted)'}, merge job ${job.mergeJob ?? '—'}\n`);
    });
}

function mergeCommand(): Command {
  return new Command('merge')
    .description("fold a Slurm job's shard stores into its store and write the report (the merge job runs this)")
    .argument('<dir>', 'the job folder')
    .option('--no-resubmit', 'when shards are unfinished, do not wait for requeued tasks')
    .action(async (dir: string, flags: { resubmit: boolean }) => {
      const job = readJob(dir);
      const outcome = mergeSlurmJob(job, flags.resubmit);
      if (outcome.kind === 'waiting') {
        process.stdout.write(`shards ${outcome.unfinished.join(', ')} are unfinished and tasks of array job ${job.arrayJob} are still queued: the merge runs again after them (job ${outcome.mergeJob})\n`);
        return;
      }
      if (outcome.kind === 'incomplete') {
        process.stderr.write(`featlab: shards ${outcome.unfinished.join(', ')} of ${job.experiment} are unfinished and no task is left in the queue; nothing was merged. Submit again with the same --results folder (finished trials are skipped), or run featlab slurm merge ${job.folder} after those shards finish\n`);
        process.exitCode = EXIT_TRIALS_FAILED;
        return;
      }
      const store = Store.open(job.db);
      try {
        const summary = store.experiments().find((e) => e.name === job.experiment);
        const { content, written } = await writeExperimentReport(store, job.experiment, job.report);
        const lines = [
          `merged ${outcome.shards} shard stores of ${job.experiment} into ${job.db}: ${outcome.trials} trials new there`,
          `report: ${written.html}`,
          ...content.summary.map((l) => `  ${l}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        if (summary && summary.failed > 0) {
          process.stderr.write(`featlab: ${summary.failed} trials of ${job.experiment} failed; submitting again retries them\n`);
          process.exitCode = EXIT_TRIALS_FAILED;
        }
      } finally {
        store.close();
      }
    });
}

function readJob(dir: string) {
  try {
    return readSlurmJob(dir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function slurmCommand(): Command {
  return new Command('slurm')
    .description('sweeps on a Slurm cluster: featlab slurm SPEC submits; status and merge follow a job folder')
    .addCommand(submitCommand().exitOverride(), { isDefault: true })
    .addCommand(statusCommand().exitOverride())
    .addCommand(mergeCommand().exitOverride());
}
