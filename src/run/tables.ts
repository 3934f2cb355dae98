/** Tidy tables of an experiment for export and display: one row per trial, or one per curve value. */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { derivedValues } from '../experiments/derived.js';
import { getPath } from '../experiments/paths.js';
import { BUDGET_REASONS, convergenceRules, type StopReason } from '../train/stopping.js';
import type { CurveRow, Store, StoredTrial } from './store.js';

export type Row = Record<string, string | number | boolean | null>;

function flatValue(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/**
 * A trial's value on a sweep axis: its sweep point's, or, for an axis another part sweeps, the value its spec
 * ran with (so no column is empty for the trials that did not sweep it).
 */
function axisValue(trial: StoredTrial | undefined, axis: string): string | number | boolean | null {
  if (!trial) return null;
  return flatValue(axis in trial.point ? trial.point[axis] : trial.spec ? getPath(trial.spec, axis) : null);
}

/** The sweep axes of an experiment, in the order they first appear. */
export function axesOf(trials: readonly StoredTrial[]): string[] {
  const axes: string[] = [];
  for (const t of trials) for (const k of Object.keys(t.point)) if (!axes.includes(k)) axes.push(k);
  return axes;
}

/** The trainer's curve names in the tables' column convention (snake_case, as the trial rows). */
const CURVE_COLUMN_NAMES: Record<string, string> = { trainLoss: 'train_loss', trainError: 'train_error', testLoss: 'test_loss', testError: 'test_error' };

export function trialRows(experiment: string, trials: readonly StoredTrial[]): Row[] {
  const axes = axesOf(trials);
  const metricNames = [...new Set(trials.flatMap((t) => Object.keys(t.final?.metrics ?? {})))];
  return trials.map((t) => {
    const row: Row = { experiment, trial_id: t.id, position: t.position };
    for (const a of axes) row[a] = axisValue(t, a);
    Object.assign(row, {
      status: t.status,
      stop_reason: t.stopReason,
      steps: t.steps,
      time: t.time,
      seconds: t.seconds,
      train_loss: t.final?.trainLoss ?? null,
      train_error: t.final?.trainError ?? null,
      test_loss: t.final?.testLoss ?? null,
      test_error: t.final?.testError ?? null,
    });
    const derived = t.spec ? derivedValues(t.spec) : null;
    row.feature_learning_strength = derived?.featureLearningStrength ?? null;
    for (const m of metricNames) row[m] = t.final?.metrics[m] ?? null;
    if (derived && derived.learningRateRatio !== null) row.learning_rate_ratio = derived.learningRateRatio;
    row.error_message = t.error;
    return row;
  });
}

/** Long format: trial, its sweep point, step, time, metric name, value. */
export function curveRows(experiment: string, store: Store, trials: readonly StoredTrial[]): Row[] {
  const axes = axesOf(trials);
  const byId = new Map(trials.map((t) => [t.id, t]));
  return store.curves(trials.filter((t) => t.status !== 'pending').map((t) => t.id)).map((c: CurveRow) => {
    const row: Row = { experiment, trial_id: c.trialId };
    const trial = byId.get(c.trialId);
    for (const a of axes) row[a] = axisValue(trial, a);
    return { ...row, step: c.step, time: c.time, metric: CURVE_COLUMN_NAMES[c.name] ?? c.name, value: c.value };
  });
}

/** The columns of curveRows and seriesRows, for a table that has no rows. */
export function longColumns(kind: 'curves' | 'series', trials: readonly StoredTrial[]): string[] {
  return ['experiment', 'trial_id', ...axesOf(trials), ...(kind === 'curves' ? ['step', 'time', 'metric', 'value'] : ['step', 'series', 'index', 'value'])];
}

/** Vector values (spectra, per-neuron numbers) in long format: trial, sweep point, step, name, index, value. */
export function seriesRows(experiment: string, store: Store, trials: readonly StoredTrial[]): Row[] {
  const axes = axesOf(trials);
  return trials
    .filter((t) => t.status !== 'pending')
    .flatMap((t) => {
      const row: Row = { experiment, trial_id: t.id };
      for (const a of axes) row[a] = axisValue(t, a);
      return store.series(t.id).flatMap((s) => s.values.map((value, index) => ({ ...row, step: s.step, series: s.name, index, value })));
    });
}

function csvCell(v: Row[string]): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header row; an empty table is its header alone (`header`), so readers still get the columns. */
export function toCsv(rows: readonly Row[], header: readonly string[] = []): string {
  if (rows.length === 0) return header.length ? `${header.map(csvCell).join(',')}\n` : '';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] ?? null)).join(','))].join('\n') + '\n';
}

/** Columns that count (seeds, steps, positions, vector indices): integers in Parquet, whatever their values. */
const INTEGER_COLUMNS: ReadonlySet<string> = new Set(['seed', 'step', 'steps', 'position', 'index']);

/**
 * The same table as Parquet (one column per key, nullable): counts as INT32 (INTEGER_COLUMNS), other numbers
 * as DOUBLE, flags as BOOLEAN, the rest as UTF-8 strings. pandas.read_parquet and pyarrow read it with these types.
 */
export function toParquet(rows: readonly Row[], header: readonly string[] = []): Uint8Array {
  const columns = rows.length === 0 ? [...header] : [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const columnData = columns.map((name) => {
    const values = rows.map((r) => r[name] ?? null);
    const present = values.filter((v) => v !== null);
    const integral = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31;
    if (INTEGER_COLUMNS.has(name) && present.length > 0 && present.every(integral)) return { name, data: values, type: 'INT32' as const };
    if (present.length > 0 && present.every((v) => typeof v === 'number')) return { name, data: values, type: 'DOUBLE' as const };
    if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return { name, data: values, type: 'BOOLEAN' as const };
    return { name, data: values.map((v) => (v === null ? null : String(v))), type: 'STRING' as const };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** The finished trials, the stop rules they asked for, and those that ended on their budget instead. */
export function convergenceSummary(trials: readonly StoredTrial[]): { readonly finished: number; readonly rules: readonly string[]; readonly atBudget: readonly StoredTrial[] } | null {
  const finished = trials.filter((t) => t.status === 'completed' && t.stopReason !== null);
  if (finished.length === 0) return null;
  const rules = new Set(finished.flatMap((t) => convergenceRules(t.spec?.training.stop ?? {})));
  return { finished: finished.length, rules: [...rules], atBudget: rules.size === 0 ? [] : finished.filter((t) => BUDGET_REASONS.includes(t.stopReason as StopReason)) };
}

/**
 * Whether the finished trials ended on a rule about their state or on their budget: one sentence for
 * tables and reports, so that a number read off a run that hit its step limit is flagged as such.
 */
export function convergenceNote(trials: readonly StoredTrial[]): string | null {
  const summary = convergenceSummary(trials);
  if (!summary) return null;
  const { finished, rules, atBudget } = summary;
  if (rules.length === 0) return `convergence: no rule asked for (targetTrainRisk, targetTrainAccuracy, interpolation, plateau, gradientTolerance, windowStationarity); all ${finished} finished trials ran their fixed budget of steps or time.`;
  if (atBudget.length === 0) return `convergence: all ${finished} finished trials stopped on a rule (${rules.join(', ')}).`;
  return `convergence: ${atBudget.length} of ${finished} finished trials hit their step or time limit before ${rules.join(' / ')} fired (stop_reason ${[...new Set(atBudget.map((t) => t.stopReason))].join(', ')}): their numbers are not converged values.`;
}
