/**
 * Fig. 3 of Oymak et al. (2019): on a mixture of K clusters whose points carry C classes (one-hot rows of C
 * outputs), the Jacobian at initialization has K·C singular values that grow like √n — the rows of one
 * cluster nearly coincide, so each (cluster, output) pair adds up like √(n/K) — while the rest do not keep
 * pace. Per seed, the mean log₁₀ of the top K·C singular values and of the next K·C are regressed on
 * log₁₀ n; the slopes are compared with ½ (95 % t interval over seeds) and with each other, paired by seed.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { lineChart, type Datum } from '../../report/charts.js';
import { formatValue, specOf, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, formatPaired, meanSe, type MeanSe, pairedBySeed, type PairedDifference } from '../../report/statistics.js';

/** The part of the jacobian spec that sweeps n on the cluster mixture. */
export const CLUSTER_PART = 'clusters';

export interface ClusterSpectrumFinding {
  /** K·C: clusters times outputs. */
  readonly top: number;
  readonly sizes: readonly number[];
  /** Slope of mean log₁₀ λ_s over s ≤ K·C against log₁₀ n, over seeds, with its 95 % interval. */
  readonly topSlope: MeanSe & { readonly low: number; readonly high: number };
  readonly bulkSlope: MeanSe;
  /** Top slope − bulk slope, paired by seed (> 0: the top K·C grow faster). */
  readonly faster: PairedDifference;
  /** log₁₀ λ_{K·C}/λ_{K·C+1} at the largest n minus at the smallest, paired by seed (> 0: the gap opens). */
  readonly gapOpens: PairedDifference;
  readonly data: Datum[];
}

/** Least-squares slope of y on x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const mx = points.reduce((s, p) => s + p.x, 0) / points.length;
  const my = points.reduce((s, p) => s + p.y, 0) / points.length;
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxy / sxx;
}

const meanLog = (values: readonly number[], from: number, to: number) => {
  const slice = values.slice(from, to).filter((v) => v > 0);
  return slice.reduce((s, v) => s + Math.log10(v), 0) / slice.length;
};

export function clusterSpectrumFinding(input: ReportInput): ClusterSpectrumFinding | null {
  const trials = input.trials.filter((t) => t.point.part === CLUSTER_PART && t.spec);
  const first = trials[0];
  if (!first) return null;
  const { data } = specOf(first);
  const clusters = data.clusters?.count ?? 8;
  const classes = data.clusters?.classes ?? 2;
  const top = clusters * (data.labels === 'value' && classes > 2 ? classes : 1);
  const finished = new Set(input.rows.filter((r) => r.status === 'completed').map((r) => r.trial_id as string));
  const bySeed = new Map<number, { n: number; values: readonly number[] }[]>();
  const plot: Datum[] = [];
  for (const t of trials) {
    if (!finished.has(t.id)) continue;
    const values = input.store.series(t.id).find((s) => s.name === 'jacobian.singularValues')?.values;
    if (!values || values.length < 2 * top + 1) continue;
    const n = specOf(t).data.n;
    const seed = specOf(t).seed;
    const list = bySeed.get(seed) ?? [];
    list.push({ n, values });
    bySeed.set(seed, list);
    for (const [s, label] of [
      [0, 'λ_1'],
      [top - 1, `λ_${top} (K·C)`],
      [top, `λ_${top + 1}`],
      [2 * top - 1, `λ_${2 * top}`],
    ] as const)
      plot.push({ n, singularValue: values[s], index: label, seed });
  }
  const seeds = [...bySeed.keys()].filter((seed) => new Set((bySeed.get(seed) ?? []).map((p) => p.n)).size >= 2);
  if (seeds.length < 2) return null;
  const of = (f: (list: { n: number; values: readonly number[] }[]) => number) => new Map(seeds.map((seed) => [seed, f(bySeed.get(seed) ?? [])]));
  const topSlopes = of((list) => slope(list.map((p) => ({ x: Math.log10(p.n), y: meanLog(p.values, 0, top) }))));
  const bulkSlopes = of((list) => slope(list.map((p) => ({ x: Math.log10(p.n), y: meanLog(p.values, top, 2 * top) }))));
  const logGap = (p: { values: readonly number[] }) => Math.log10(p.values[top - 1] / p.values[top]);
  const gapAt = (pick: (a: number, b: number) => boolean) =>
    of((list) => logGap(list.reduce((a, b) => (pick(b.n, a.n) ? b : a))));
  const t = meanSe([...topSlopes.values()]);
  const q = tQuantile(0.975, t.count - 1);
  return {
    top,
    sizes: [...new Set(plot.map((d) => d.n as number))].sort((a, b) => a - b),
    topSlope: { ...t, low: t.mean - q * t.se, high: t.mean + q * t.se },
    bulkSlope: meanSe([...bulkSlopes.values()]),
    faster: pairedBySeed(topSlopes, bulkSlopes),
    gapOpens: pairedBySeed(
      gapAt((a, b) => a > b),
      gapAt((a, b) => a < b),
    ),
    data: plot,
  };
}

export function clusterSpectrumReport(input: ReportInput): ReportContent {
  const f = clusterSpectrumFinding(input);
  const title = input.spec.report.title ?? input.name;
  if (!f) return { title, summary: ['fewer than two seeds with two or more sizes n finished: nothing to fit.'], figures: [], table: input.rows };
  return {
    title,
    summary: [
      `K·C = ${f.top} (clusters × outputs); n = ${f.sizes.join(', ')}; the Jacobian at initialization.`,
      `slope of the mean log₁₀ of the top ${f.top} singular values against log₁₀ n: ${formatMeanSe(f.topSlope)} (95 % interval ${formatValue(f.topSlope.low)} to ${formatValue(f.topSlope.high)}, ${f.topSlope.count} seeds); the paper's √n is ½, ${f.topSlope.low <= 0.5 && 0.5 <= f.topSlope.high ? 'inside' : 'outside'} the interval.`,
      `the next ${f.top}: slope ${formatMeanSe(f.bulkSlope)}; top minus next, paired by seed: ${formatPaired(f.faster, 'growing faster at the top')}.`,
      `log₁₀ λ_${f.top}/λ_${f.top + 1} at n = ${f.sizes[f.sizes.length - 1]} minus at n = ${f.sizes[0]}, paired by seed: ${formatPaired(f.gapOpens, 'a wider gap at the larger n')}.`,
    ],
    figures: [
      {
        id: 'cluster_spectrum',
        caption: `Singular values of the Jacobian at initialization against n on the K-cluster mixture (Fig. 3 of the paper): the top K·C = ${f.top} grow like √n, the rest do not keep pace, so the gap after the ${f.top}th opens; mean ± SE over seeds.`,
        spec: lineChart({ title: 'Jacobian singular values against n', data: f.data, x: { field: 'n', title: 'training points n (log)', log: true }, y: { field: 'singularValue', title: 'λ_s (log)', log: true }, color: { field: 'index', title: 'singular value' }, band: true }),
      },
    ],
    table: input.rows,
  };
}
