/** What a report template reads from the store: the experiment's spec, trial rows and curves. */
import type { ExperimentSpec } from '../experiments/experimentSpec.js';
import type { TrialSpec } from '../experiments/trialSpec.js';
import type { Store, StoredTrial } from '../run/store.js';
import { axesOf, trialRows, type Row } from '../run/tables.js';
import type { Datum } from './charts.js';

export interface ReportInput {
  readonly name: string;
  readonly spec: ExperimentSpec;
  readonly trials: readonly StoredTrial[];
  /** One row per trial: sweep axes, status, final numbers and final metrics. */
  readonly rows: readonly Row[];
  readonly axes: readonly string[];
  readonly store: Store;
}

/** A finished trial's spec, typed (a stored config this version's schema does not take cannot be drawn by a template that reads it). */
export function specOf(t: StoredTrial): TrialSpec {
  if (!t.spec) throw new Error(`trial ${t.id}: its stored config does not parse as a trial spec of this featlab version; rerun the experiment with --replace`);
  return t.spec;
}

export function reportInput(store: Store, name: string): ReportInput {
  const trials = store.trials(name);
  return { name, spec: store.experimentSpec(name), trials, rows: trialRows(name, trials), axes: axesOf(trials), store };
}

/** Finished rows with a finite number in every named field, as chart data. */
export function numericRows(rows: readonly Row[], fields: readonly string[]): Datum[] {
  return rows.filter((r) => r.status !== 'pending' && r.status !== 'failed' && fields.every((f) => typeof r[f] === 'number' && Number.isFinite(r[f] as number))).map((r) => ({ ...r }) as Datum);
}

/** Curve values of the finished trials: one datum per (trial, step) with the named metrics as fields. */
export function curveData(input: ReportInput, metrics: readonly string[], extra: (t: StoredTrial) => Datum = () => ({})): Datum[] {
  const finished = input.trials.filter((t) => t.status === 'completed' || t.status === 'diverged');
  const rows = input.store.curves(finished.map((t) => t.id));
  const byKey = new Map<string, Datum>();
  const trialOf = new Map(finished.map((t) => [t.id, t]));
  for (const c of rows) {
    if (!metrics.includes(c.name)) continue;
    const key = `${c.trialId}@${c.step}`;
    let d = byKey.get(key);
    if (!d) {
      const t = trialOf.get(c.trialId) as StoredTrial;
      d = { trial: c.trialId, step: c.step, time: c.time, ...flatPoint(t.point), ...extra(t) };
      byKey.set(key, d);
    }
    d[c.name] = c.value;
  }
  return [...byKey.values()];
}

function flatPoint(point: Record<string, unknown>): Datum {
  return Object.fromEntries(Object.entries(point).map(([k, v]) => [k, typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Items by a key, the keys in first-seen order and each group in input order. */
export function groupBy<T, K>(items: Iterable<T>, key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Mean of a field over rows grouped by another field, in ascending order of the group. */
export function meanBy(rows: readonly Datum[], group: string, field: string): { x: number; mean: number; count: number }[] {
  // A running mean: a sum of losses near the largest double would overflow to Infinity.
  const means = new Map<number, { mean: number; n: number }>();
  for (const r of rows) {
    const x = r[group];
    const v = r[field];
    if (typeof x !== 'number' || typeof v !== 'number' || !Number.isFinite(v)) continue;
    const e = means.get(x) ?? { mean: 0, n: 0 };
    e.n++;
    e.mean += (v - e.mean) / e.n;
    means.set(x, e);
  }
  return [...means.entries()].sort((a, b) => a[0] - b[0]).map(([x, { mean, n }]) => ({ x, mean, count: n }));
}

export function spansDecades(values: readonly number[]): boolean {
  const positive = values.filter((v) => v > 0);
  return positive.length === values.length && positive.length > 1 && Math.max(...positive) / Math.min(...positive) >= 10;
}

export function formatValue(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return 'not finite';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/**
 * A deep-net trial's setting in words, for the line a report sets beside the paper's: the net ("resnet8 at
 * width ×0.25, no batch norm", or "an MLP"), and "n <data> training points (m test), <optimizer> at <rate>,
 * batch <b>".
 */
export function settingText(spec: TrialSpec): { net: string; training: string } {
  const { model, data, training } = spec;
  const net = model.family === 'cnn' ? `${model.architecture ?? 'a listed CNN'}${model.widthMultiplier !== 1 ? ` at width ×${model.widthMultiplier}` : ''}, no batch norm` : 'an MLP';
  return { net, training: `${data.n} ${data.name ?? `synthetic ${data.task}`} training points (${data.nTest} test), ${training.optimizer} at ${training.learningRate}, batch ${training.batchSize ?? 'full'}` };
}
