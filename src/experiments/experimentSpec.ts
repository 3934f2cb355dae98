/**
 * An experiment: a base trial, sweep axes (grid, zip, random, seeds as replicates) over any field by
 * its dotted path, and a report part. Read from JSON or YAML; every problem is reported at once, each
 * naming its field; expansion gives the trials in a fixed order with their ids.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { deepMerge, isPlainObject, PathError, setPath } from './paths.js';
import { parseJsonText } from './jsonText.js';
import { trialId } from './trialId.js';
import { formatIssues, SpecError, trialSchema, type TrialSpec } from './trialSpec.js';
import { Rng } from '../linalg/rng.js';
import { PAPERS } from '../papers/index.js';

const axisValues = z.array(z.unknown()).min(1, 'an axis needs at least one value');

const randomAxis = z.union([
  z.strictObject({ logUniform: z.tuple([z.number().positive(), z.number().positive()]) }),
  z.strictObject({ uniform: z.tuple([z.number(), z.number()]) }),
  z.strictObject({ choice: z.array(z.unknown()).min(1) }),
]);

export const sweepSchema = z.strictObject({
  /** Cartesian product, the last axis varying fastest. */
  grid: z.record(z.string(), axisValues).optional(),
  /** Axes of equal length, stepped together. */
  zip: z.record(z.string(), axisValues).optional(),
  /** `count` points drawn with `seed`: log-uniform, uniform or a choice per axis. */
  random: z.strictObject({ count: z.number().int().min(1), seed: z.number().int().min(0).default(0), axes: z.record(z.string(), randomAxis) }).optional(),
  /** Replicates: a count (seeds 0..count−1) or the list of trial seeds. */
  seeds: z.union([z.number().int().min(1), z.array(z.number().int().min(0)).min(1)]).optional(),
});

/** `generic`, or the name of a paper whose template draws the report (src/papers/). */
export function reportTemplateNames(): string[] {
  return ['generic', ...PAPERS.map((p) => p.name)];
}

export const reportSchema = z.strictObject({
  title: z.string().max(1_000).optional(),
  /** Which figures `featlab report` draws: a paper's template, or `generic` (final numbers versus the first axis). */
  template: z
    .string()
    .default('generic')
    .refine((name) => reportTemplateNames().includes(name), { error: () => `one of ${reportTemplateNames().join(', ')}` }),
  /** Columns of `featlab show` beyond the sweep axes, e.g. "final.testError". */
  columns: z.array(z.string()).optional(),
});



/** One of several sweeps of an experiment, with its own overrides of the base. */
const partSchema = z.strictObject({
  name: z.string().max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"'),
  description: z.string().max(10_000).optional(),
  base: z.record(z.string(), z.unknown()).default({}),
  sweep: sweepSchema.default({}),
});

/** A profile (e.g. `quick`) overrides the spec: merged into base, replacing sweep axes, and parts when it has them. */
const profileSchema = z.strictObject({
  description: z.string().max(10_000).optional(),
  base: z.record(z.string(), z.unknown()).optional(),
  sweep: z.record(z.string(), z.unknown()).optional(),
  parts: z.array(z.unknown()).optional(),
});

export const experimentSchema = z.strictObject({
  // The name becomes a folder name (reports/<name>, results/<name>): at most 128 characters.
  name: z.string().max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit'),
  description: z.string().max(10_000).optional(),
  base: z.record(z.string(), z.unknown()).default({}),
  sweep: sweepSchema.default({}),
  /** Several sweeps in one experiment: each part's base is merged into the base, its axes added to the sweep's; points carry `part`. */
  parts: z
    .array(partSchema)
    .min(1)
    .refine((parts) => new Set(parts.map((p) => p.name)).size === parts.length, { error: (issue) => `two parts share a name (${duplicateNames(issue.input as { name: string }[]).join(', ')}); each names its trials` })
    .optional(),
  report: reportSchema.prefault({}),
  profiles: z.record(z.string(), profileSchema).optional(),
});

export type ExperimentSpec = z.output<typeof experimentSchema>;

function duplicateNames(parts: readonly { readonly name: string }[]): string[] {
  const names = parts.map((p) => p.name);
  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}

export interface ExpandedTrial {
  /** Position in the experiment's trial list (fixed for a spec). */
  readonly position: number;
  readonly id: string;
  readonly spec: TrialSpec;
  /** The swept values of this trial, by dotted path ("seed" for replicates). */
  readonly point: Record<string, unknown>;
}

export interface Experiment {
  readonly spec: ExperimentSpec;
  readonly trials: ExpandedTrial[];
}

type Point = Record<string, unknown>;

function product(points: Point[], axes: Record<string, unknown[]>): Point[] {
  let out = points;
  for (const [path, values] of Object.entries(axes)) out = out.flatMap((p) => values.map((v) => ({ ...p, [path]: v })));
  return out;
}

function sweepPoints(sweep: z.output<typeof sweepSchema>, problems: string[]): Point[] {
  let points: Point[] = [{}];
  if (sweep.grid) points = product(points, sweep.grid);
  if (sweep.zip) {
    const lengths = Object.entries(sweep.zip).map(([path, v]) => [path, v.length] as const);
    const first = lengths[0]?.[1] ?? 0;
    const uneven = lengths.filter(([, l]) => l !== first);
    if (uneven.length) problems.push(`sweep.zip: every axis needs the same number of values; got ${lengths.map(([p, l]) => `${p}: ${l}`).join(', ')}`);
    else if (lengths.length) {
      const zipped = Array.from({ length: first }, (_, i) => Object.fromEntries(Object.entries(sweep.zip ?? {}).map(([p, v]) => [p, v[i]])));
      points = points.flatMap((p) => zipped.map((z) => ({ ...p, ...z })));
    }
  }
  if (sweep.random) {
    const { count, seed, axes } = sweep.random;
    const rng = Rng.fromSeed(seed).child('sweep');
    const drawn: Point[] = Array.from({ length: count }, () =>
      Object.fromEntries(
        Object.entries(axes).map(([path, axis]) => {
          if ('logUniform' in axis) {
            const [lo, hi] = axis.logUniform;
            return [path, Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * rng.uniform())];
          }
          if ('uniform' in axis) return [path, axis.uniform[0] + (axis.uniform[1] - axis.uniform[0]) * rng.uniform()];
          return [path, axis.choice[rng.integer(axis.choice.length)]];
        }),
      ),
    );
    points = points.flatMap((p) => drawn.map((d) => ({ ...p, ...d })));
  }
  if (sweep.seeds !== undefined) {
    const seeds = typeof sweep.seeds === 'number' ? Array.from({ length: sweep.seeds }, (_, i) => i) : sweep.seeds;
    points = product(points, { seed: seeds });
  }
  return points;
}

/**
 * A profile's or part's base merged into the spec's base; a null removes a field the base sets (a
 * stop rule, a label noise). A model that names another family replaces the base's model whole: one
 * family's fields (an MLP's hiddenWidths) mean nothing to another.
 */
function mergeBase(base: unknown, over: unknown): unknown {
  const merged = deepMerge(base, over, { nullRemoves: true });
  const [from, to] = [isPlainObject(base) ? base.model : undefined, isPlainObject(over) ? over.model : undefined];
  const familyOf = (model: unknown) => (isPlainObject(model) && typeof model.family === 'string' ? model.family : 'mlp');
  if (isPlainObject(merged) && isPlainObject(to) && 'family' in to && familyOf(to) !== familyOf(from)) return { ...merged, model: to };
  return merged;
}

/**
 * Applies a named profile: its base is merged into the base, its sweep axes replace the sweep's
 * (kind by kind; null removes a kind), and the experiment is stored as "<name>-<profile>".
 */
export function applyProfile(input: unknown, profile: string): unknown {
  if (!isPlainObject(input)) return input;
  const profiles = isPlainObject(input.profiles) ? input.profiles : {};
  const chosen = profiles[profile];
  if (!isPlainObject(chosen)) {
    const known = Object.keys(profiles);
    throw new SpecError([`profile "${profile}" is not in this spec${known.length ? `; it has: ${known.join(', ')}` : ' (it has no profiles)'}`]);
  }
  // A null removes a kind of axis the spec's sweep has (a part-only profile drops the spec's grid).
  const merged = { ...(isPlainObject(input.sweep) ? input.sweep : {}), ...(isPlainObject(chosen.sweep) ? chosen.sweep : {}) };
  const sweep = Object.fromEntries(Object.entries(merged).filter(([, axes]) => axes !== null));
  return {
    ...input,
    name: `${String(input.name)}-${profile}`,
    base: mergeBase(input.base ?? {}, chosen.base ?? {}),
    sweep,
    ...(chosen.parts ? { parts: chosen.parts } : {}),
  };
}

/** Trials a sweep expands to, counted without expanding it. */
function sweepSize(sweep: z.output<typeof sweepSchema>): number {
  let count = 1;
  for (const values of Object.values(sweep.grid ?? {})) count *= values.length;
  const zipLengths = Object.values(sweep.zip ?? {}).map((v) => v.length);
  if (zipLengths.length) count *= Math.max(...zipLengths);
  if (sweep.random) count *= sweep.random.count;
  if (sweep.seeds !== undefined) count *= typeof sweep.seeds === 'number' ? sweep.seeds : sweep.seeds.length;
  return count;
}

export const DEFAULT_MAX_TRIALS = 100_000;

/** Validates an experiment given as a plain value; throws SpecError with every problem. */
export function parseExperiment(input: unknown, { maxTrials = DEFAULT_MAX_TRIALS }: { maxTrials?: number } = {}): Experiment {
  const parsed = experimentSchema.safeParse(input);
  if (!parsed.success) throw new SpecError(formatIssues(parsed.error, input).flatMap((l) => l.split('\n')));
  const spec = parsed.data;
  const partSweeps: z.output<typeof sweepSchema>[] = spec.parts?.map((p) => p.sweep) ?? [{}];
  const total = partSweeps.reduce((a, sweep) => a + sweepSize({ ...spec.sweep, ...sweep, grid: { ...spec.sweep.grid, ...sweep.grid } }), 0);
  if (total > maxTrials) throw new SpecError([`sweep: expands to ${total.toExponential(2)} trials, over the limit of ${maxTrials} (--max-trials raises it)`]);
  const problems: string[] = [];
  const trials: ExpandedTrial[] = [];
  const seen = new Set<string>();
  const parts = spec.parts ?? [{ name: '', base: {}, sweep: {} }];
  let position = 0;
  for (const part of parts) {
    const sweep = { ...spec.sweep, ...part.sweep, grid: { ...spec.sweep.grid, ...part.sweep.grid } };
    const where = part.name ? `part ${part.name}: ` : '';
    for (const path of Object.keys(sweep.zip ?? {}))
      if (path in sweep.grid) problems.push(`${where}sweep: ${path} is both a grid axis and a zip axis; sweep it in one`);
    const base = mergeBase(spec.base, part.base);
    for (const axisPoint of sweepPoints(sweep, problems)) {
      let raw: unknown = base;
      try {
        for (const [path, value] of Object.entries(axisPoint)) raw = setPath(raw, path, value);
      } catch (e) {
        if (!(e instanceof PathError)) throw e;
        const message = `sweep ${e.message}`;
        if (!seen.has(message)) {
          seen.add(message);
          problems.push(message);
        }
        continue;
      }
      const point = part.name ? { part: part.name, ...axisPoint } : axisPoint;
      const result = trialSchema.safeParse(raw);
      if (!result.success) {
        // A swept field's problem is named by its axis, once, however many trials share it.
        for (const line of formatIssues(result.error, raw).flatMap((l) => l.split('\n'))) {
          const field = line.slice(0, line.indexOf(':'));
          const axis = Object.keys(axisPoint).find((p) => field === p || field.startsWith(`${p}.`) || p.startsWith(`${field}.`));
          const message = axis ? `${where}sweep ${axis} = ${JSON.stringify(axisPoint[axis])}: ${line}` : `${where}base.${line}`;
          if (!seen.has(message)) {
            seen.add(message);
            problems.push(message);
          }
        }
        continue;
      }
      trials.push({ position: position++, id: trialId(result.data), spec: result.data, point });
    }
  }
  if (problems.length) throw new SpecError(problems);
  return { spec, trials };
}

/** A spec file's text; a FIFO, a device or a folder is refused without reading (a read could block). */
export function readSpecText(path: string): string {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SpecError([`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot read the file (${code ?? 'unknown error'})`}`]);
  }
  if (stat.isDirectory()) throw new SpecError([`${path}: is a folder; a spec is a JSON or YAML file`]);
  if (!stat.isFile()) throw new SpecError([`${path}: not a regular file (a pipe or a device); a spec is a JSON or YAML file`]);
  if (stat.size > 16 * 2 ** 20) throw new SpecError([`${path}: ${(stat.size / 2 ** 20).toFixed(0)} MiB; a spec file is at most 16 MiB`]);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SpecError([`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`]);
  }
}

/** Reads a JSON or YAML experiment file (by extension; YAML otherwise), applies a profile, validates it. */
export function loadExperimentFile(path: string, profile?: string, options: { maxTrials?: number } = {}): Experiment {
  const text = readSpecText(path);
  let value: unknown;
  if (extname(path).toLowerCase() === '.json') value = parseJsonText(text, path);
  else {
    try {
      value = parseYaml(text);
    } catch (e) {
      if (e instanceof YAMLParseError) {
        const at = e.linePos?.[0];
        throw new SpecError([`${path}: YAML syntax error${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${e.message.split('\n')[0]}`]);
      }
      // e.g. too many aliases (a "billion laughs" document): the parser's own words.
      throw new SpecError([`${path}: YAML refused: ${(e as Error).message.split('\n')[0]}`]);
    }
  }
  if (!isPlainObject(value)) throw new SpecError([`${path}: an experiment is an object with name, base, sweep and report`]);
  try {
    return parseExperiment(profile ? applyProfile(value, profile) : value, options);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.problems.map((p) => `${path}: ${p}`));
    throw e;
  }
}

/** The experiment schema as JSON Schema (draft 2020-12), the trial schema inlined as `base`. */
export function experimentJsonSchema(): unknown {
  const experiment = z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const trial = z.toJSONSchema(trialSchema, { io: 'input', unrepresentable: 'any' });
  const properties = { ...(experiment.properties as Record<string, unknown>), base: trial };
  return { ...experiment, properties };
}
