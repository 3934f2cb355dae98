/**
 * Chart builders shared by the report templates: lines of the mean over seeds with a band of ±1
 * standard error, log scales where a quantity spans decades, theory curves drawn over points.
 */
import type { TopLevelSpec } from 'vega-lite';

export type Datum = Record<string, string | number | null>;

export interface Axis {
  readonly field: string;
  readonly title: string;
  readonly log?: boolean;
  readonly domain?: readonly [number, number];
}

export interface LineChartOptions {
  readonly title: string;
  readonly data: readonly Datum[];
  readonly x: Axis;
  readonly y: Axis;
  /** Field whose values get one line each (with a legend). */
  readonly color?: {
    readonly field: string;
    readonly title: string;
    readonly type?: 'nominal' | 'ordinal' | 'quantitative';
    /** Fixed colours by value (e.g. a paper's blue and red curves), in legend order. */
    readonly palette?: Readonly<Record<string, string>>;
  };
  /** Mean line with a band of ±1 standard error over the rows sharing x (and color): for replicates over seeds. */
  readonly band?: boolean;
  /** Curves drawn as dashed lines over the measurements (closed forms), in the same fields. */
  readonly theory?: { readonly data: readonly Datum[]; readonly label: string };
  /** Vertical rules at these x values (e.g. a threshold), with a label. */
  readonly rules?: readonly { readonly x: number; readonly label: string }[];
  readonly width?: number;
  readonly height?: number;
  readonly points?: boolean;
}

/** Vega-Lite reads "a.b" as a nested field; sweep axes are dotted paths, so dots are escaped. */
export function fieldRef(name: string): string {
  return name.replace(/\./g, '\\.');
}

function scaleOf(axis: Axis) {
  return { type: axis.log ? 'log' : 'linear', ...(axis.domain ? { domain: [...axis.domain] } : {}), ...(axis.log ? {} : { zero: false }) };
}

/**
 * Vega-Lite's errorband computes NaN for an escaped dotted field (its aggregate loses the escape), so
 * a banded measure with dots in its name is copied under a name without them.
 */
function bandSafe(o: LineChartOptions): LineChartOptions {
  if (!o.band || !o.y.field.includes('.')) return o;
  const safe = o.y.field.replace(/\./g, '·');
  const copy = (rows: readonly Datum[]) => rows.map((r) => (o.y.field in r ? { ...r, [safe]: r[o.y.field] } : r));
  return { ...o, data: copy(o.data), y: { ...o.y, field: safe }, ...(o.theory ? { theory: { ...o.theory, data: copy(o.theory.data) } } : {}) };
}

export function lineChart(options: LineChartOptions): TopLevelSpec {
  const o = bandSafe(options);
  const x = { field: fieldRef(o.x.field), type: 'quantitative', title: o.x.title, scale: scaleOf(o.x) };
  const y = { field: fieldRef(o.y.field), type: 'quantitative', title: o.y.title, scale: scaleOf(o.y) };
  const palette = o.color?.palette ? { scale: { domain: Object.keys(o.color.palette), range: Object.values(o.color.palette) } } : {};
  const color = o.color ? { field: fieldRef(o.color.field), type: o.color.type ?? 'nominal', title: o.color.title, ...palette } : undefined;
  const tipX = { field: fieldRef(o.x.field), type: 'quantitative', title: o.x.title };
  const layers: Record<string, unknown>[] = [];
  if (o.band) {
    layers.push({ mark: { type: 'errorband', extent: 'stderr', opacity: 0.25 }, encoding: { x, y, ...(color ? { color } : {}) } });
    layers.push({ mark: { type: 'line', point: o.points ?? true }, encoding: { x, y: { ...y, aggregate: 'mean' }, ...(color ? { color } : {}), tooltip: [tipX, { field: fieldRef(o.y.field), aggregate: 'mean', type: 'quantitative', format: '.4g', title: o.y.title }] } });
  } else {
    layers.push({ mark: { type: 'line', point: o.points ?? false }, encoding: { x, y, ...(color ? { color } : {}), tooltip: [tipX, { field: fieldRef(o.y.field), type: 'quantitative', format: '.4g', title: o.y.title }] } });
  }
  const datasets: Record<string, readonly Datum[]> = { measured: o.data };
  if (o.theory) {
    datasets.theory = o.theory.data;
    layers.push({
      data: { name: 'theory' },
      mark: { type: 'line', strokeDash: [6, 4], color: 'black', opacity: 0.8 },
      encoding: { x, y, ...(color ? { detail: { field: fieldRef(o.color?.field ?? '') } } : {}) },
    });
  }
  if (o.rules?.length) {
    datasets.rules = o.rules.map((r) => ({ [o.x.field]: r.x, label: r.label }));
    layers.push({ data: { name: 'rules' }, mark: { type: 'rule', color: '#c0392b', strokeDash: [3, 3] }, encoding: { x } });
    layers.push({ data: { name: 'rules' }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#c0392b', fontSize: 11 }, encoding: { x, y: { value: 8 }, text: { field: 'label' } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? 380,
    height: o.height ?? 240,
    datasets: datasets as Record<string, Datum[]>,
    data: { name: 'measured' },
    layer: layers,
    ...(o.theory ? { description: `dashed: ${o.theory.label}` } : {}),
  } as unknown as TopLevelSpec;
}

