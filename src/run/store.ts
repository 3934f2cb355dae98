/**
 * The embedded results store: one SQLite file (WAL), one transaction per finished trial.
 * Trials are content-addressed by id; an experiment lists its trials with their sweep points.
 * A file that is not a featlab store is refused and left untouched.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RecordPoint } from '../train/records.js';
import type { ExpandedTrial, ExperimentSpec } from '../experiments/experimentSpec.js';
import { canonicalJson } from '../experiments/canonicalJson.js';
import { trialSchema, type TrialSpec } from '../experiments/trialSpec.js';
import type { SeriesPoint, TrialRecord, TrialStatus } from './record.js';
import { FEATLAB_VERSION } from './version.js';

/** "FEAT" in ASCII: SQLite's application_id of a featlab store. */
export const APPLICATION_ID = 0x46454154;

/** Schema migrations; migration i brings user_version from i to i + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE experiments (
     name TEXT PRIMARY KEY,
     spec TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     featlab_version TEXT NOT NULL);
   CREATE TABLE trials (
     id TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('completed', 'diverged', 'failed')),
     stop_reason TEXT,
     error TEXT,
     steps REAL,
     time REAL,
     seconds REAL NOT NULL,
     final TEXT,
     finished_at TEXT NOT NULL,
     featlab_version TEXT NOT NULL);
   CREATE TABLE experiment_trials (
     experiment TEXT NOT NULL REFERENCES experiments(name) ON DELETE CASCADE,
     trial_id TEXT NOT NULL,
     position INTEGER NOT NULL,
     point TEXT NOT NULL,
     PRIMARY KEY (experiment, trial_id));
   CREATE TABLE scalars (
     trial_id TEXT NOT NULL,
     step REAL NOT NULL,
     time REAL NOT NULL,
     name TEXT NOT NULL,
     value REAL,
     PRIMARY KEY (trial_id, step, name)) WITHOUT ROWID;
   CREATE TABLE series (
     trial_id TEXT NOT NULL,
     step REAL NOT NULL,
     name TEXT NOT NULL,
     vals BLOB NOT NULL,
     PRIMARY KEY (trial_id, step, name)) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

const SQLITE_HEADER = 'SQLite format 3\0';

/** The first 100 bytes of a file: SQLite's header (magic, page count, user_version, application_id). */
function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(100);
    const read = readSync(fd, buffer, 0, 100, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * What a file's header says before SQLite opens it (opening can leave -wal/-shm files beside a file
 * that is then refused): not SQLite, another program's database, or a featlab store and its schema.
 */
function classifyStoreFile(path: string): { kind: 'empty' } | { kind: 'featlab'; version: number } | { kind: 'wal' } {
  const stat = statSync(path);
  if (stat.isDirectory()) throw new StoreError(`${path}: is a folder; --db names a store file (e.g. ${join(path, 'featlab.db')})`);
  if (!stat.isFile()) throw new StoreError(`${path}: not a regular file (a pipe or a device); --db names a store file`);
  if (stat.size === 0) return { kind: 'empty' };
  const header = readHeader(path);
  if (header.length < 100 || header.subarray(0, 16).toString('latin1') !== SQLITE_HEADER) throw new StoreError(`${path}: not a featlab store (not a SQLite database); featlab will not overwrite it`);
  const pages = header.readUInt32BE(28);
  const version = header.readUInt32BE(60);
  const appId = header.readUInt32BE(68);
  if (appId === APPLICATION_ID) return { kind: 'featlab', version };
  // Commits not yet copied back from the write-ahead log (a writer still open, or killed): the header is stale.
  if (existsSync(`${path}-wal`) && statSync(`${path}-wal`).size > 0) return { kind: 'wal' };
  // A database with no content yet (one page, nothing set) may become a store.
  if (appId === 0 && version === 0 && pages <= 1) return { kind: 'empty' };
  throw new StoreError(`${path}: a SQLite database of another program (application_id ${appId}, user_version ${version}), not a featlab store; featlab will not write to it`);
}

export interface StoredTrial {
  readonly id: string;
  readonly position: number;
  readonly point: Record<string, unknown>;
  readonly config: unknown;
  /** The config read as a trial spec: typed, for reports and exports (null while pending, or when this version's schema does not take it). */
  readonly spec: TrialSpec | null;
  readonly status: TrialStatus | 'pending';
  readonly stopReason: string | null;
  readonly error: string | null;
  readonly steps: number | null;
  readonly time: number | null;
  readonly seconds: number | null;
  readonly final: RecordPoint | null;
}

export interface ExperimentSummary {
  readonly name: string;
  readonly description: string | null;
  readonly trials: number;
  readonly completed: number;
  readonly diverged: number;
  readonly failed: number;
  readonly pending: number;
  readonly updatedAt: string;
}

export interface CurveRow {
  readonly trialId: string;
  readonly step: number;
  readonly time: number;
  readonly name: string;
  readonly value: number | null;
}

const CURVE_FIELDS = ['trainLoss', 'trainError', 'testLoss', 'testError'] as const;

/** A `trials` row as SQLite returns it (all null when the trial is pending: not stored yet). */
interface TrialRow {
  config: string | null;
  status: TrialStatus | null;
  stop_reason: string | null;
  error: string | null;
  steps: number | null;
  time: number | null;
  seconds: number | null;
  final: string | null;
}

/**
 * canonicalJson stores a non-finite number as its name (JSON has none). No spec field takes one from
 * a user (the schema refuses them), so such a value is a default: dropped, the schema fills it again.
 */
function nonFiniteNumbers(_key: string, value: unknown): unknown {
  return value === 'Infinity' || value === '-Infinity' || value === 'NaN' ? undefined : value;
}

function trialOfRow(id: string, r: TrialRow): Omit<StoredTrial, 'position' | 'point'> {
  const config = r.config ? (JSON.parse(r.config) as unknown) : null;
  const parsed = r.config ? trialSchema.safeParse(JSON.parse(r.config, nonFiniteNumbers)) : null;
  return {
    id,
    config,
    spec: parsed?.success ? parsed.data : null,
    status: r.status ?? 'pending',
    stopReason: r.stop_reason,
    error: r.error,
    steps: r.steps,
    time: r.time,
    seconds: r.seconds,
    final: r.final ? (JSON.parse(r.final) as RecordPoint) : null,
  };
}

export class Store {
  private readonly db: Database.Database;

  private constructor(
    db: Database.Database,
    readonly path: string,
    private readonly readonly: boolean,
  ) {
    this.db = db;
  }

  /**
   * Opens (or creates) a store. A file that is not SQLite, or a SQLite database of another program,
   * is refused without being written to.
   */
  static open(path: string, { readonly = false }: { readonly?: boolean } = {}): Store {
    let found = existsSync(path) ? classifyStoreFile(path) : null;
    if (found?.kind === 'featlab' && found.version > SCHEMA_VERSION) throw new StoreError(`${path}: written by a newer featlab (store schema ${found.version}, this featlab reads up to ${SCHEMA_VERSION})`);
    if (readonly && found?.kind !== 'featlab' && found?.kind !== 'wal') throw new StoreError(`${path}: no such store; run an experiment first (featlab run …) or name one with --db`);
    if (readonly && found?.kind === 'featlab' && found.version < SCHEMA_VERSION) throw new StoreError(`${path}: an older store schema (${found.version}); open it once for writing to migrate it`);
    let db: Database.Database;
    try {
      db = new Database(path, { readonly, fileMustExist: found !== null && found.kind !== 'empty' });
    } catch (e) {
      throw new StoreError(`${path}: cannot open the store (${(e as Error).message})`);
    }
    try {
      if (found?.kind === 'wal') {
        const appId = db.pragma('application_id', { simple: true }) as number;
        const version = db.pragma('user_version', { simple: true }) as number;
        const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
        if (appId !== APPLICATION_ID && (appId !== 0 || version !== 0 || tables > 0))
          throw new StoreError(`${path}: a SQLite database of another program (application_id ${appId}, user_version ${version}), not a featlab store; featlab will not write to it`);
        if (appId === APPLICATION_ID && version > SCHEMA_VERSION) throw new StoreError(`${path}: written by a newer featlab (store schema ${version}, this featlab reads up to ${SCHEMA_VERSION})`);
        found = appId === APPLICATION_ID ? { kind: 'featlab', version } : { kind: 'empty' };
        if (readonly && found.kind !== 'featlab') throw new StoreError(`${path}: no such store; run an experiment first (featlab run …) or name one with --db`);
      }
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('foreign_keys = ON');
        db.pragma('busy_timeout = 10000');
        const version = found?.kind === 'featlab' ? found.version : 0;
        const migrate = db.transaction(() => {
          for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
          db.pragma(`application_id = ${APPLICATION_ID}`);
          db.pragma(`user_version = ${SCHEMA_VERSION}`);
        });
        if (version < SCHEMA_VERSION || found?.kind !== 'featlab') migrate();
      } else db.pragma('busy_timeout = 10000');
    } catch (e) {
      db.close();
      if (e instanceof StoreError) throw e;
      throw new StoreError(`${path}: not a usable featlab store (${(e as Error).message.split('\n')[0]})${/readonly|read-only/i.test((e as Error).message) ? '; the store or its folder is not writable by this user' : ''}`);
    }
    return new Store(db, path, readonly);
  }

  /**
   * A writer leaves the store in rollback-journal mode when it is the last connection, so that readers
   * (featlab ls, show, export; a read-only folder) need no -wal/-shm files; a reader changes nothing.
   */
  close(): void {
    if (!this.readonly) {
      try {
        this.db.pragma('busy_timeout = 0');
        this.db.pragma('journal_mode = DELETE');
      } catch {
        // Another connection still has it open (a run in progress): it stays in WAL mode.
      }
    }
    this.db.close();
  }

  /** Registers an experiment and its trial list (replacing an earlier list of the same name). */
  registerExperiment(spec: ExperimentSpec, trials: readonly ExpandedTrial[]): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO experiments (name, spec, created_at, updated_at, featlab_version) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, featlab_version = excluded.featlab_version`,
        )
        .run(spec.name, JSON.stringify(spec), now, now, FEATLAB_VERSION);
      this.db.prepare('DELETE FROM experiment_trials WHERE experiment = ?').run(spec.name);
      const insert = this.db.prepare('INSERT OR IGNORE INTO experiment_trials (experiment, trial_id, position, point) VALUES (?, ?, ?, ?)');
      for (const t of trials) insert.run(spec.name, t.id, t.position, JSON.stringify(t.point));
    })();
  }

  /** Ids of trials stored with a final status (completed or diverged); failed ones are retried. */
  finishedIds(ids: readonly string[]): Set<string> {
    const query = this.db.prepare("SELECT id FROM trials WHERE id = ? AND status IN ('completed', 'diverged')").pluck();
    return new Set(ids.filter((id) => query.get(id) !== undefined));
  }

  /** Ids of trials stored as failed (a rerun retries them). */
  failedIds(ids: readonly string[]): Set<string> {
    const query = this.db.prepare("SELECT id FROM trials WHERE id = ? AND status = 'failed'").pluck();
    return new Set(ids.filter((id) => query.get(id) !== undefined));
  }

  /** Writes one finished trial, replacing an earlier record of the same id, in one transaction. */
  writeTrial(config: unknown, record: TrialRecord): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM scalars WHERE trial_id = ?').run(record.id);
      this.db.prepare('DELETE FROM series WHERE trial_id = ?').run(record.id);
      this.db
        .prepare(
          `INSERT OR REPLACE INTO trials (id, config, status, stop_reason, error, steps, time, seconds, final, finished_at, featlab_version)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(record.id, canonicalJson(config), record.status, record.stopReason, record.error, record.steps, record.time, record.seconds, record.final ? JSON.stringify(record.final) : null, new Date().toISOString(), FEATLAB_VERSION);
      const scalar = this.db.prepare('INSERT OR REPLACE INTO scalars (trial_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)');
      for (const p of record.curve) {
        for (const field of CURVE_FIELDS) scalar.run(record.id, p.step, p.time, field, p[field]);
        for (const [name, value] of Object.entries(p.metrics)) scalar.run(record.id, p.step, p.time, name, value);
      }
      const series = this.db.prepare('INSERT OR REPLACE INTO series (trial_id, step, name, vals) VALUES (?, ?, ?, ?)');
      for (const s of record.series) series.run(record.id, s.step, s.name, Buffer.from(Float64Array.from(s.values).buffer));
    })();
  }

  experiments(): ExperimentSummary[] {
    const rows = this.db
      .prepare(
        `SELECT e.name, e.spec, e.updated_at,
                count(et.trial_id) AS trials,
                sum(t.status = 'completed') AS completed,
                sum(t.status = 'diverged') AS diverged,
                sum(t.status = 'failed') AS failed,
                sum(t.id IS NULL) AS pending
         FROM experiments e
         LEFT JOIN experiment_trials et ON et.experiment = e.name
         LEFT JOIN trials t ON t.id = et.trial_id
         GROUP BY e.name ORDER BY e.updated_at, e.name`,
      )
      .all() as { name: string; spec: string; updated_at: string; trials: number; completed: number | null; diverged: number | null; failed: number | null; pending: number | null }[];
    return rows.map((r) => ({
      name: r.name,
      description: (JSON.parse(r.spec) as ExperimentSpec).description ?? null,
      trials: r.trials,
      completed: r.completed ?? 0,
      diverged: r.diverged ?? 0,
      failed: r.failed ?? 0,
      pending: r.pending ?? 0,
      updatedAt: r.updated_at,
    }));
  }

  /** Whether an experiment of this spec's name is stored from a spec with other content. */
  storedFromOtherSpec(spec: ExperimentSpec): boolean {
    const row = this.db.prepare('SELECT spec FROM experiments WHERE name = ?').pluck().get(spec.name) as string | undefined;
    return row !== undefined && canonicalJson(JSON.parse(row)) !== canonicalJson(JSON.parse(JSON.stringify(spec)));
  }

  experimentSpec(name: string): ExperimentSpec {
    const row = this.db.prepare('SELECT spec FROM experiments WHERE name = ?').pluck().get(name) as string | undefined;
    if (row === undefined) {
      const known = this.experiments().map((e) => e.name);
      throw new StoreError(`no experiment "${name}" in ${this.path}${known.length ? `; it has: ${known.join(', ')}` : ' (it is empty)'}`);
    }
    return JSON.parse(row) as ExperimentSpec;
  }

  /** The experiment's trials in sweep order, pending ones included. */
  trials(experiment: string): StoredTrial[] {
    this.experimentSpec(experiment);
    const rows = this.db
      .prepare(
        `SELECT et.trial_id, et.position, et.point, t.config, t.status, t.stop_reason, t.error, t.steps, t.time, t.seconds, t.final
         FROM experiment_trials et LEFT JOIN trials t ON t.id = et.trial_id
         WHERE et.experiment = ? ORDER BY et.position`,
      )
      .all(experiment) as (TrialRow & { trial_id: string; position: number; point: string })[];
    return rows.map((r) => ({ ...trialOfRow(r.trial_id, r), position: r.position, point: JSON.parse(r.point) as Record<string, unknown> }));
  }

  /** One stored trial by id (with the experiments that list it), or null. */
  trial(id: string): (Omit<StoredTrial, 'position' | 'point'> & { readonly experiments: string[] }) | null {
    const r = this.db.prepare('SELECT config, status, stop_reason, error, steps, time, seconds, final FROM trials WHERE id = ?').get(id) as TrialRow | undefined;
    if (!r) return null;
    const experiments = this.db.prepare('SELECT experiment FROM experiment_trials WHERE trial_id = ? ORDER BY experiment').pluck().all(id) as string[];
    return { ...trialOfRow(id, r), experiments };
  }

  curves(trialIds: readonly string[]): CurveRow[] {
    const query = this.db.prepare('SELECT trial_id AS trialId, step, time, name, value FROM scalars WHERE trial_id = ? ORDER BY step, name');
    return trialIds.flatMap((id) => query.all(id) as CurveRow[]);
  }

  series(trialId: string): SeriesPoint[] {
    const rows = this.db.prepare('SELECT name, step, vals FROM series WHERE trial_id = ? ORDER BY name, step').all(trialId) as { name: string; step: number; vals: Buffer }[];
    return rows.map((r) => ({ name: r.name, step: r.step, values: Array.from(new Float64Array(r.vals.buffer.slice(r.vals.byteOffset, r.vals.byteOffset + r.vals.byteLength))) }));
  }

  /** Folds another store into this one: experiments (union of their trial lists) and trials not already here. */
  merge(otherPath: string): { experiments: number; trials: number } {
    Store.open(otherPath, { readonly: true }).close();
    this.db.prepare('ATTACH DATABASE ? AS other').run(otherPath);
    try {
      return this.db.transaction(() => {
        this.checkMergeable(otherPath);
        const experiments = this.db
          .prepare(
            `INSERT INTO experiments (name, spec, created_at, updated_at, featlab_version)
             SELECT name, spec, created_at, updated_at, featlab_version FROM other.experiments WHERE true
             ON CONFLICT(name) DO NOTHING`,
          )
          .run().changes;
        this.db.prepare('INSERT OR IGNORE INTO experiment_trials SELECT * FROM other.experiment_trials').run();
        // Trials missing here, or failed here but finished there, come over with their curves.
        this.db.exec(`CREATE TEMP TABLE incoming AS
          SELECT o.id FROM other.trials o LEFT JOIN main.trials t ON t.id = o.id
          WHERE t.id IS NULL OR (t.status = 'failed' AND o.status != 'failed')`);
        try {
          this.db.exec('DELETE FROM main.scalars WHERE trial_id IN (SELECT id FROM incoming)');
          this.db.exec('DELETE FROM main.series WHERE trial_id IN (SELECT id FROM incoming)');
          const trials = this.db.prepare('INSERT OR REPLACE INTO main.trials SELECT * FROM other.trials WHERE id IN (SELECT id FROM incoming)').run().changes;
          this.db.exec('INSERT INTO main.scalars SELECT * FROM other.scalars WHERE trial_id IN (SELECT id FROM incoming)');
          this.db.exec('INSERT INTO main.series SELECT * FROM other.series WHERE trial_id IN (SELECT id FROM incoming)');
          return { experiments, trials };
        } finally {
          this.db.exec('DROP TABLE temp.incoming');
        }
      })();
    } finally {
      this.db.prepare('DETACH DATABASE other').run();
    }
  }

  /** Per experiment: the featlab version that wrote it and its trial ids, to tell two experiments of one name apart. */
  experimentIdentities(schema = 'main'): Map<string, { version: string; ids: Set<string> }> {
    const out = new Map<string, { version: string; ids: Set<string> }>();
    for (const { name, version } of this.db.prepare(`SELECT name, featlab_version AS version FROM ${schema}.experiments`).all() as { name: string; version: string }[])
      out.set(name, { version, ids: new Set(this.db.prepare(`SELECT trial_id FROM ${schema}.experiment_trials WHERE experiment = ?`).pluck().all(name) as string[]) });
    return out;
  }

  /**
   * An experiment of the same name in both stores must be the same experiment (the same trial ids)
   * written by the same featlab version; otherwise two sweeps would mix under one name.
   */
  private checkMergeable(otherPath: string): void {
    const ours = this.experimentIdentities('main');
    for (const [name, theirs] of this.experimentIdentities('other')) {
      const mine = ours.get(name);
      if (mine) mergeConflict(otherPath, name, theirs, mine);
    }
  }
}

/** Throws the one-line reason two records of experiment `name` cannot be merged, if there is one. */
export function mergeConflict(path: string, name: string, theirs: { version: string; ids: Set<string> }, ours: { version: string; ids: Set<string> }): void {
  if (theirs.version !== ours.version)
    throw new StoreError(`${path}: experiment "${name}" was written by featlab ${theirs.version}, the other by featlab ${ours.version}; rerun it with one version (nothing was merged)`);
  const differ = [...theirs.ids].filter((id) => !ours.ids.has(id)).length + [...ours.ids].filter((id) => !theirs.ids.has(id)).length;
  if (differ > 0) throw new StoreError(`${path}: experiment "${name}" has other trials than the one of that name in the other store (${differ} trial ids differ): two different specs share the name; rename one (nothing was merged)`);
}
