/** `featlab run | ls | show | export | merge | schema`: experiments and the results store. */
import { existsSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { builtinNames, builtinPath } from '../experiments/builtins.js';
import { DEFAULT_MAX_TRIALS, type Experiment, experimentJsonSchema, loadExperimentFile } from '../experiments/experimentSpec.js';
import { defaultLimits, type Limits, sweepProblems } from '../experiments/feasibility.js';
import { SpecError } from '../experiments/trialSpec.js';
import { runExperiment, defaultThreads } from '../run/executor.js';
import { LogProgress, type Progress, SilentProgress, TerminalProgress } from '../run/progress.js';
import { parseShard, type Shard } from '../run/shard.js';
import { mergeConflict, Store } from '../run/store.js';
import { convergenceNote, convergenceSummary, curveRows, longColumns, seriesRows, toCsv, toParquet, trialRows, type Row } from '../run/tables.js';
import { writeExperimentReport } from '../report/index.js';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import { formatNumber, printable, table } from './format.js';

const DEFAULT_DB = 'featlab.db';

export function dbOption(): Option {
  return new Option('--db <file>', 'the results store').default(DEFAULT_DB).argParser((value: string) => {
    if (value.trim() === '') throw new UsageError('--db: the path of a store file is needed, got an empty string');
    return value;
  });
}

/** --max-trials and --max-memory: the limits checked before anything runs. */
export function addLimitOptions(command: Command): Command {
  return command
    .option('--max-trials <n>', `refuse a sweep of more trials (default: ${DEFAULT_MAX_TRIALS})`)
    .option('--max-memory <GiB>', 'refuse a trial that needs more memory (default: three quarters of this machine)');
}

export function limitsOf(flags: { maxTrials?: string; maxMemory?: string }): Limits {
  const limits = defaultLimits();
  const memory = flags.maxMemory === undefined ? undefined : Number(flags.maxMemory);
  if (memory !== undefined && !(memory > 0 && Number.isFinite(memory))) throw new UsageError(`--max-memory: a positive number of GiB, got "${flags.maxMemory}"`);
  return {
    maxTrials: flags.maxTrials === undefined ? limits.maxTrials : positiveInteger('--max-trials', flags.maxTrials),
    maxBytes: memory === undefined ? limits.maxBytes : memory * 2 ** 30,
  };
}

/** Loads and expands a spec, then checks the whole sweep against the data and the limits: exit 2 before anything is written. */
export function loadCheckedExperiment(spec: string, profile: string | undefined, limits: Limits): Experiment {
  const experiment = loadExperimentFile(resolveSpec(spec), profile, { maxTrials: limits.maxTrials });
  const problems = sweepProblems(experiment.trials, limits);
  if (problems.length) throw new SpecError(problems);
  return experiment;
}

export function positiveInteger(flag: string, text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag}: must be a positive integer, got "${text}"`);
  return v;
}

export const EXIT_TRIALS_FAILED = 1;
export const EXIT_INTERRUPTED = 130;

/** A file that exists wins over a built-in of the same name. */
export function resolveSpec(nameOrFile: string): string {
  return existsSync(nameOrFile) ? nameOrFile : (builtinPath(nameOrFile) ?? nameOrFile);
}

function runCommand(): Command {
  return addLimitOptions(new Command('run'))
    .description(`run an experiment from a spec file (JSON or YAML) or a built-in (${builtinNames().join(', ') || 'none'}); stored trials are skipped`)
    .argument('<spec>', 'spec file or built-in name')
    .addOption(dbOption())
    .option('--threads <n>', `worker threads (default: ${defaultThreads()}, one per core)`)
    .option('--max-ensemble <k>', 'most trials one worker trains together in one pass (default 64); smaller stores finished trials sooner, so a stopped run loses less')
    .option('--force', 'rerun trials that are already stored (and redefine the experiment)')
    .option('--replace', 'redefine a stored experiment of the same name from this spec (its stored trials are reused where they match)')
    .option('--shard <k/N>', 'run only the k-th of N slices (for job arrays); merge the stores with featlab merge')
    .option('--profile <name>', "run one of the spec's profiles (stored as <name>-<profile>)")
    .option('--quick', 'the quick profile: a few minutes on 2 cores (same as --profile quick)')
    .option('--quiet', 'no progress output')
    .option('--report', 'write the report when done (built-ins and specs with a report title or template always do)')
    .option('--no-report', 'do not write the report')
    .action(async (spec: string, flags: { db: string; threads?: string; maxEnsemble?: string; force?: boolean; replace?: boolean; shard?: string; quiet?: boolean; profile?: string; quick?: boolean; report?: boolean; maxTrials?: string; maxMemory?: string }) => {
      let shard: Shard | undefined;
      try {
        shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const threads = flags.threads === undefined ? undefined : positiveInteger('--threads', flags.threads);
      const maxEnsemble = flags.maxEnsemble === undefined ? undefined : positiveInteger('--max-ensemble', flags.maxEnsemble);
      // Everything is validated before the store is touched.
      if (flags.quick && flags.profile && flags.profile !== 'quick') throw new UsageError('--quick and --profile name two different profiles; give one');
      const experiment = loadCheckedExperiment(spec, flags.quick ? 'quick' : flags.profile, limitsOf(flags));
      const store = Store.open(flags.db);
      if (!flags.force && !flags.replace && store.storedFromOtherSpec(experiment.spec)) {
        store.close();
        throw new UsageError(`${experiment.spec.name}: ${flags.db} holds an experiment of this name from a different spec; give the spec a new name, or --replace to redefine it (stored trials that match are reused)`);
      }
      const controller = new AbortController();
      const progress: Progress = flags.quiet ? new SilentProgress() : process.stderr.isTTY ? new TerminalProgress() : new LogProgress((l) => process.stderr.write(`${l}\n`));
      const onSignal = (signal: NodeJS.Signals) => {
        progress.notice(`\nfeatlab: ${signal}: stopping; the trials in flight end at their next step (not stored), finished ones are kept; ${signal === 'SIGINT' ? 'Ctrl-C again' : 'a second signal'} quits at once`);
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const s = await runExperiment(experiment, { store, threads, maxEnsemble, force: flags.force, shard, progress, signal: controller.signal });
        const name = experiment.spec.name;
        const lines = [
          `${name}: ${s.total} trials${shard ? ` (shard ${shard.index}/${shard.count})` : ''}; ran ${s.ran} (${s.completed} completed, ${s.diverged} diverged, ${s.failed} failed), ${s.skipped} already stored, in ${s.seconds.toFixed(1)} s`,
          s.interrupted ? `stopped early: what finished is in ${flags.db}; run the same command again to resume` : `results in ${flags.db}: featlab show ${name}${flags.db === DEFAULT_DB ? '' : ` --db ${flags.db}`}`,
        ];
        // A stop rule that did not fire is said once, here, and in show and the report.
        const trials = store.trials(name);
        if ((convergenceSummary(trials)?.atBudget.length ?? 0) > 0) lines.push(`warning: ${convergenceNote(trials) ?? ''}`);
        const isBuiltin = !existsSync(spec) && builtinPath(spec) !== null;
        // A spec that names its report (a title, or a template other than the generic one) gets it written, as a built-in does.
        const asksForReport = experiment.spec.report.title !== undefined || experiment.spec.report.template !== 'generic';
        if (!s.interrupted && !shard && (flags.report ?? (isBuiltin || asksForReport))) {
          const { content, written } = await writeExperimentReport(store, name, join('reports', name));
          lines.push(`report: ${written.html}`, ...content.summary.map((l) => `  ${l}`));
        }
        process.stdout.write(`${lines.join('\n')}\n`);
        process.exitCode = s.interrupted ? EXIT_INTERRUPTED : s.failed > 0 ? EXIT_TRIALS_FAILED : 0;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        store.close();
      }
    });
}

function lsCommand(): Command {
  return new Command('ls')
    .description('list the experiments in the store with their trial counts')
    .addOption(dbOption())
    .action((flags: { db: string }) => {
      const store = Store.open(flags.db, { readonly: true });
      try {
        const rows = store.experiments().map((e) => [e.name, String(e.trials), String(e.completed), String(e.diverged), String(e.failed), String(e.pending), e.updatedAt.slice(0, 19).replace('T', ' ')]);
        process.stdout.write(rows.length ? `${table(['experiment', 'trials', 'completed', 'diverged', 'failed', 'pending', 'updated'], rows)}\n` : `${flags.db} has no experiments yet\n`);
      } finally {
        store.close();
      }
    });
}

function cell(v: Row[string]): string {
  if (v === null) return '—';
  // Integers (steps, counts, seeds) exactly; other numbers in four significant digits.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : formatNumber(v);
  return String(v);
}

function showCommand(): Command {
  return new Command('show')
    .description("a table of an experiment's trials: sweep values, status and final numbers")
    .argument('<experiment>')
    .addOption(dbOption())
    .action((name: string, flags: { db: string }) => {
      const store = Store.open(flags.db, { readonly: true });
      try {
        const spec = store.experimentSpec(name);
        const trials = store.trials(name);
        const rows = trialRows(name, trials);
        const skip = new Set(['experiment', 'trial_id', 'time', 'seconds', 'error_message']);
        const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => !skip.has(c) && rows.some((r) => r[c] !== null));
        const title = spec.report.title ?? spec.description ?? name;
        process.stdout.write(`${printable(name)}: ${printable(title)}\n\n${table(columns, rows.map((r) => columns.map((c) => cell(r[c] ?? null))))}\n`);
        const failures = rows.filter((r) => r.status === 'failed');
        for (const f of failures.slice(0, 5)) process.stdout.write(`failed trial ${f.trial_id}: ${printable(String(f.error_message))}\n`);
        const note = convergenceNote(trials);
        if (note) process.stdout.write(`${note}\n`);
      } finally {
        store.close();
      }
    });
}

function exportCommand(): Command {
  return new Command('export')
    .description('write an experiment as CSV, JSON or Parquet: one row per trial, or (--curves) one per recorded value')
    .argument('<experiment>')
    .addOption(dbOption())
    .addOption(new Option('--format <format>', 'output format (parquet needs --out)').choices(['csv', 'json', 'parquet']).default('csv'))
    .option('--curves', 'the metric curves in long format (trial, sweep values, step, time, metric, value)')
    .option('--series', 'the recorded vectors (spectra, per-neuron values) in long format (trial, sweep values, step, series, index, value)')
    .option('-o, --out <file>', 'write to a file instead of standard output')
    .action((name: string, flags: { db: string; format: 'csv' | 'json' | 'parquet'; curves?: boolean; series?: boolean; out?: string }) => {
      if (flags.curves && flags.series) throw new UsageError('--curves and --series are two different tables; give one');
      if (flags.format === 'parquet' && !flags.out) throw new UsageError('--format parquet: a binary file; give its name with --out FILE');
      const store = Store.open(flags.db, { readonly: true });
      try {
        const trials = store.trials(name);
        const rows = flags.curves ? curveRows(name, store, trials) : flags.series ? seriesRows(name, store, trials) : trialRows(name, trials);
        const long = flags.curves ? 'curves' : flags.series ? 'series' : null;
        const header = long ? longColumns(long, trials) : [];
        const text = flags.format === 'parquet' ? toParquet(rows, header) : flags.format === 'csv' ? toCsv(rows, header) : `${JSON.stringify(rows, null, 1)}\n`;
        if (flags.out) writeFileSync(flags.out, text);
        else process.stdout.write(text);
      } finally {
        store.close();
      }
    });
}

function reportCommand(): Command {
  return new Command('report')
    .description("draw an experiment's figures from the store and write an HTML report (SVG, PNG, CSV beside it)")
    .argument('<experiment>')
    .addOption(dbOption())
    .option('--out <dir>', 'the report folder (default: reports/<experiment>)')
    .action(async (name: string, flags: { db: string; out?: string }) => {
      const store = Store.open(flags.db, { readonly: true });
      try {
        const { content, written } = await writeExperimentReport(store, name, flags.out ?? join('reports', name));
        process.stdout.write(`report: ${written.html}\n${content.summary.map((l) => `  ${l}`).join('\n')}\n`);
      } finally {
        store.close();
      }
    });
}

function mergeCommand(): Command {
  return new Command('merge')
    .description('fold shard stores into one store')
    .argument('<stores...>', 'stores to fold in')
    .addOption(dbOption())
    .action((sources: string[], flags: { db: string }) => {
      // Every source is checked against the target and the other sources before anything is written.
      const seen = new Map<string, { version: string; ids: Set<string>; path: string }>();
      for (const path of existsSync(flags.db) ? [flags.db, ...sources] : sources) {
        const other = Store.open(path, { readonly: true });
        try {
          for (const [name, identity] of other.experimentIdentities()) {
            const first = seen.get(name);
            if (first) mergeConflict(path, name, identity, first);
            else seen.set(name, { ...identity, path });
          }
        } finally {
          other.close();
        }
      }
      const store = Store.open(flags.db);
      try {
        for (const source of sources) {
          const { experiments, trials } = store.merge(source);
          process.stdout.write(`${source}: ${trials} trials and ${experiments} new experiments merged into ${flags.db}\n`);
        }
      } finally {
        store.close();
      }
    });
}

function schemaCommand(): Command {
  return new Command('schema').description('print the JSON Schema of experiment specs (the trial schema is its "base")').action(() => {
    process.stdout.write(`${JSON.stringify(experimentJsonSchema(), null, 2)}\n`);
  });
}

export function experimentCommands(): Command[] {
  return [runCommand(), lsCommand(), showCommand(), reportCommand(), exportCommand(), mergeCommand(), schemaCommand()];
}
