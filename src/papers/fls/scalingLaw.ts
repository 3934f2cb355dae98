/**
 * Seed 000's scaling law for the optimal output multiplier, c* ∝ n^a h^b with the paper's a = −2, b = −1:
 * over a grid of training-set sizes n and width multipliers h, each seed's c* is the c of least peak test
 * error among the runs that reached the target train accuracy; log₁₀ c* = k + a·log₁₀ n + b·log₁₀ h is fitted
 * by least squares over every (seed, n, h) whose optimum lies inside the c grid, with 95 % intervals from
 * Student's t. An optimum at an end of the c values a seed fitted only bounds c* (censored) and is left out of
 * the fit and counted.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { lineChart, type Datum } from '../../report/charts.js';
import { formatValue, numericRows, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, meanSe, type MeanSe } from '../../report/statistics.js';

/** The part of the fls spec that sweeps n × width × c. */
export const SCALING_PART = 'scaling';

const C = 'model.outputScale';
const N = 'data.n';
const H = 'model.widthMultiplier';
const BEST = 'best.testError';

/** The paper's exponents. */
export const PAPER_EXPONENTS = { a: -2, b: -1 } as const;

export interface OptimalC {
  readonly n: number;
  readonly h: number;
  readonly seed: number;
  readonly c: number;
  /** At the smallest or largest c fitted in its cell: c* lies there or beyond. */
  readonly atEdge: 'smallest' | 'largest' | null;
}

export interface Coefficient {
  readonly value: number;
  readonly se: number;
  /** The 95 % interval. */
  readonly low: number;
  readonly high: number;
}

export interface PowerLawFit {
  readonly intercept: Coefficient;
  readonly a: Coefficient;
  readonly b: Coefficient;
  /** Observations used, and the residual degrees of freedom. */
  readonly count: number;
  readonly dof: number;
}

/**
 * Ordinary least squares of y on [1, u, v] with 95 % t intervals; null when the design is singular
 * (fewer than two distinct u or v) or leaves no degree of freedom.
 */
export function fitPowerLaw(points: readonly { readonly y: number; readonly u: number; readonly v: number }[]): PowerLawFit | null {
  const count = points.length;
  const dof = count - 3;
  if (dof < 1) return null;
  // Normal equations of a 3-column design, solved by the explicit inverse of the 3 × 3 XᵀX.
  const rows = points.map((p) => [1, p.u, p.v]);
  const xtx = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((s, r) => s + r[i] * r[j], 0)));
  const xty = [0, 1, 2].map((i) => rows.reduce((s, r, k) => s + r[i] * points[k].y, 0));
  const inverse = invert3(xtx);
  if (!inverse) return null;
  const beta = inverse.map((row) => row.reduce((s, v, j) => s + v * xty[j], 0));
  const rss = rows.reduce((s, r, k) => s + (points[k].y - (beta[0] + beta[1] * r[1] + beta[2] * r[2])) ** 2, 0);
  const sigma2 = rss / dof;
  const t = tQuantile(0.975, dof);
  const coefficient = (i: number): Coefficient => {
    const se = Math.sqrt(Math.max(sigma2 * inverse[i][i], 0));
    return { value: beta[i], se, low: beta[i] - t * se, high: beta[i] + t * se };
  };
  return { intercept: coefficient(0), a: coefficient(1), b: coefficient(2), count, dof };
}

function invert3(m: number[][]): number[][] | null {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const scale = Math.max(...m.flat().map(Math.abs));
  if (!(Math.abs(det) > 1e-12 * scale ** 3)) return null;
  const cof = [
    [e * i - f * h, c * h - b * i, b * f - c * e],
    [f * g - d * i, a * i - c * g, c * d - a * f],
    [d * h - e * g, b * g - a * h, a * e - b * d],
  ];
  return cof.map((row) => row.map((v) => v / det));
}

export interface ScalingFinding {
  readonly optima: readonly OptimalC[];
  /** Per (n, h): log₁₀ c* over the seeds whose optimum is inside the grid. */
  readonly cells: readonly { readonly n: number; readonly h: number; readonly logC: MeanSe; readonly inside: number; readonly seeds: number }[];
  readonly fit: PowerLawFit | null;
  readonly censored: number;
  /** Runs that did not reach the target train accuracy (left out of their cell). */
  readonly unfitted: number;
}

const fits = (d: Datum) => d.status === 'completed' && d.stop_reason === 'targetAccuracy';

export function scalingFinding(rows: ReportInput['rows']): ScalingFinding {
  const part = rows.filter((r) => r.part === SCALING_PART);
  const data = numericRows(part, [C, N, H, 'seed', BEST]);
  const values = (rows: readonly Datum[], field: string) => [...new Set(rows.map((d) => d[field] as number))].sort((x, y) => x - y);
  const optima: OptimalC[] = [];
  for (const n of values(data, N))
    for (const h of values(data, H)) {
      const cell = data.filter((d) => d[N] === n && d[H] === h);
      for (const seed of values(cell, 'seed')) {
        const runs = cell.filter((d) => d.seed === seed && fits(d));
        if (runs.length < 2) continue;
        // The ends are those of the c values this seed fitted: beyond them nothing was read.
        const grid = values(runs, C);
        const best = runs.reduce((x, y) => ((y[BEST] as number) < (x[BEST] as number) ? y : x));
        const c = best[C] as number;
        optima.push({ n, h, seed, c, atEdge: c === grid[0] ? 'smallest' : c === grid[grid.length - 1] ? 'largest' : null });
      }
    }
  const inside = optima.filter((o) => o.atEdge === null);
  const cells = [...new Set(optima.map((o) => `${o.n}|${o.h}`))].map((key) => {
    const [n, h] = key.split('|').map(Number);
    const own = optima.filter((o) => o.n === n && o.h === h);
    const kept = own.filter((o) => o.atEdge === null);
    return { n, h, logC: meanSe(kept.map((o) => Math.log10(o.c))), inside: kept.length, seeds: own.length };
  });
  const fit = fitPowerLaw(inside.map((o) => ({ y: Math.log10(o.c), u: Math.log10(o.n), v: Math.log10(o.h) })));
  return { optima, cells, fit, censored: optima.length - inside.length, unfitted: data.filter((d) => !fits(d)).length };
}

function formatCoefficient(c: Coefficient): string {
  return `${formatMeanSe({ mean: c.value, se: c.se, count: 0 })} (95 % interval ${formatValue(c.low)} to ${formatValue(c.high)})`;
}

export function scalingSummary(f: ScalingFinding): string[] {
  const out = [
    `optimal c per seed and (n, h): ${f.optima.length} read, ${f.censored} at an end of the c grid (only a bound; left out of the fit), ${f.unfitted} runs short of the target train accuracy left out of their cell.`,
    ...f.cells.map((c) => `n = ${c.n}, h = ×${c.h}: log₁₀ c* ${c.inside ? formatMeanSe(c.logC) : 'n/a'} (${c.inside} of ${c.seeds} seeds inside the grid)`),
  ];
  if (!f.fit) {
    out.push('too few optima inside the grid, or too few distinct n and h, to fit c* ∝ n^a h^b: not reproduced at this scale.');
    return out;
  }
  const inside = (c: Coefficient, value: number) => (c.low <= value && value <= c.high ? `the paper's ${value} is inside` : `the paper's ${value} is outside`);
  out.push(
    `fit log₁₀ c* = k + a·log₁₀ n + b·log₁₀ h over ${f.fit.count} optima (${f.fit.dof} degrees of freedom): a = ${formatCoefficient(f.fit.a)}, ${inside(f.fit.a, PAPER_EXPONENTS.a)}; b = ${formatCoefficient(f.fit.b)}, ${inside(f.fit.b, PAPER_EXPONENTS.b)}.`,
  );
  return out;
}

export function scalingFigures(f: ScalingFinding): ReportContent['figures'] {
  const data: Datum[] = f.optima.filter((o) => o.atEdge === null).map((o) => ({ n: o.n, logC: Math.log10(o.c), width: `h = ×${o.h}`, seed: o.seed }));
  if (!data.length) return [];
  const theory: Datum[] = [];
  if (f.fit) {
    const fit = f.fit;
    const ns = [...new Set(data.map((d) => d.n as number))].sort((x, y) => x - y);
    for (const h of [...new Set(f.optima.map((o) => o.h))])
      for (const n of [ns[0], ns[ns.length - 1]]) theory.push({ n, logC: fit.intercept.value + fit.a.value * Math.log10(n) + fit.b.value * Math.log10(h), width: `h = ×${h}` });
  }
  return [
    {
      id: 'optimal_c_scaling',
      caption: `Each seed's optimal output multiplier c* (inside the c grid) against the training-set size n, by width multiplier h; dashed: the fitted c* ∝ n^a h^b (the paper: a = ${PAPER_EXPONENTS.a}, b = ${PAPER_EXPONENTS.b}); mean ± SE over seeds.`,
      spec: lineChart({ title: 'Optimal c against n and width', data, x: { field: 'n', title: 'training points n (log)', log: true }, y: { field: 'logC', title: 'log₁₀ c*' }, color: { field: 'width', title: 'width' }, band: true, theory: theory.length ? { data: theory, label: 'fit' } : undefined }),
    },
  ];
}

export function scalingReport(input: ReportInput): ReportContent {
  const f = scalingFinding(input.rows);
  return {
    title: input.spec.report.title ?? input.name,
    summary: [
      'each seed’s optimal c: the output multiplier of least peak test error among its runs that reached the target train accuracy (plain SGD at one learning rate η/c), at each training-set size n and width multiplier h.',
      ...scalingSummary(f),
    ],
    figures: scalingFigures(f),
    table: input.rows,
  };
}
