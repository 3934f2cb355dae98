/**
 * Seed 000's deep-net protocol: the output multiplier c (f = c·net, FLS = 1/c) against the SGD learning
 * rate (the paper's η/c), plain SGD, each run trained until it fits 99 % of its training points, and
 * the peak test accuracy over training read off. Drawn as a heatmap on the (c, learning-rate) plane
 * with the optimal c of each row; the optimum is picked on one half of the seeds and both sides are
 * tested against it on the other half, paired by seed.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Datum } from '../../report/charts.js';
import { formatValue, numericRows, type ReportInput } from '../../report/data.js';
import type { ReportContent } from '../../report/html.js';
import { formatMeanSe, formatPaired, meanSe, type MeanSe, pairedBySeed, type PairedDifference } from '../../report/statistics.js';

/** The part of the fls spec that sweeps c × learning rate. */
export const MULTIPLIER_PART = 'multiplier';

const C = 'model.outputScale';
const RATE = 'training.learningRate';
const BEST = 'best.testError';

export interface MultiplierCell {
  readonly c: number;
  readonly rate: number;
  /** Peak test accuracy (1 − least test error over training) of the trials that reached the target train accuracy. */
  readonly accuracy: MeanSe;
  readonly trials: number;
  readonly fitted: number;
  readonly diverged: number;
}

export interface MultiplierRow {
  readonly rate: number;
  /** The c values every seed of this row fitted (the paper reads only runs that reach the target). */
  readonly fittedC: readonly number[];
  /** log₁₀ of each seed's best c among fittedC, over all seeds. */
  readonly logOptimalC: MeanSe;
  /** The optimum by mean peak accuracy on seeds A (the first half), and the sides tested on seeds B. */
  readonly selected: number | null;
  /** Seeds B: best test error at the largest fitted c (the lazy end) − at the selected c. */
  readonly lazyGap: PairedDifference | null;
  /** Seeds B: best test error at the smallest fitted c (the rich end) − at the selected c. */
  readonly richGap: PairedDifference | null;
}

export interface MultiplierFinding {
  readonly cells: readonly MultiplierCell[];
  readonly rows: readonly MultiplierRow[];
  readonly seedsA: readonly number[];
  readonly seedsB: readonly number[];
}

const fits = (d: Datum) => d.status === 'completed' && d.stop_reason === 'targetAccuracy';

export function multiplierFinding(input: ReportInput): MultiplierFinding {
  const part = input.rows.filter((r) => r.part === MULTIPLIER_PART);
  const data = numericRows(part, [C, RATE, 'seed']);
  const seeds = [...new Set(data.map((d) => d.seed as number))].sort((a, b) => a - b);
  const half = Math.ceil(seeds.length / 2);
  const [seedsA, seedsB] = [seeds.slice(0, half), seeds.slice(half)];
  const values = (field: string) => [...new Set(data.map((d) => d[field] as number))].sort((a, b) => a - b);
  const cells: MultiplierCell[] = [];
  for (const rate of values(RATE))
    for (const c of values(C)) {
      const own = data.filter((d) => d[RATE] === rate && d[C] === c);
      const fitted = own.filter(fits);
      cells.push({ c, rate, accuracy: meanSe(fitted.map((d) => 1 - (d[BEST] as number))), trials: own.length, fitted: fitted.length, diverged: part.filter((r) => r[RATE] === rate && r[C] === c && r.status === 'diverged').length });
    }
  const rows = values(RATE).map((rate): MultiplierRow => {
    const own = data.filter((d) => d[RATE] === rate);
    const errorAt = (c: number, among: readonly number[]) => new Map(own.filter((d) => d[C] === c && among.includes(d.seed as number) && fits(d)).map((d) => [d.seed as number, d[BEST] as number]));
    const fittedC = values(C).filter((c) => errorAt(c, seeds).size === seeds.length);
    const perSeedBest = seeds.map((seed) => {
      const errors = fittedC.map((c) => errorAt(c, [seed]).get(seed) as number);
      return fittedC[errors.indexOf(Math.min(...errors))];
    });
    const logOptimalC = fittedC.length >= 2 ? meanSe(perSeedBest.map(Math.log10)) : meanSe([]);
    if (fittedC.length < 3 || seedsB.length === 0) return { rate, fittedC, logOptimalC, selected: null, lazyGap: null, richGap: null };
    const meanA = fittedC.map((c) => meanSe([...errorAt(c, seedsA).values()]).mean);
    const selected = fittedC[meanA.indexOf(Math.min(...meanA))];
    const atSelected = errorAt(selected, seedsB);
    const gap = (c: number) => (c === selected ? null : pairedBySeed(errorAt(c, seedsB), atSelected));
    return { rate, fittedC, logOptimalC, selected, lazyGap: gap(fittedC[fittedC.length - 1]), richGap: gap(fittedC[0]) };
  });
  return { cells, rows, seedsA, seedsB };
}

/** Peak test accuracy as squares on the (c, learning rate) plane; unfitted cells hollow, each row's optimal c ringed. */
function heatmap(f: MultiplierFinding): TopLevelSpec {
  const x = { field: 'c', type: 'quantitative', title: 'output multiplier c (log)', scale: { type: 'log' } };
  const y = { field: 'rate', type: 'quantitative', title: 'SGD learning rate η/c (log)', scale: { type: 'log' } };
  const cells = f.cells.map((cell) => ({ c: cell.c, rate: cell.rate, accuracy: Number.isFinite(cell.accuracy.mean) ? cell.accuracy.mean : null, fitted: `${cell.fitted} of ${cell.trials}` }));
  const optima = f.rows.filter((r) => Number.isFinite(r.logOptimalC.mean)).map((r) => ({ c: 10 ** r.logOptimalC.mean, rate: r.rate }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Peak test accuracy on the (c, η/c) plane',
    width: 360,
    height: 240,
    datasets: { cells, optima },
    data: { name: 'cells' },
    layer: [
      {
        mark: { type: 'square', size: 420, opacity: 0.95 },
        encoding: {
          x,
          y,
          color: { field: 'accuracy', type: 'quantitative', title: 'peak test accuracy', scale: { scheme: 'viridis' } },
          tooltip: [{ field: 'c' }, { field: 'rate', title: 'η/c' }, { field: 'accuracy', format: '.3f' }, { field: 'fitted', title: 'fitted seeds' }],
        },
      },
      { data: { name: 'optima' }, mark: { type: 'point', shape: 'diamond', size: 120, color: '#d62728', filled: true }, encoding: { x, y } },
    ],
  } as unknown as TopLevelSpec;
}

function gapText(d: PairedDifference | null, side: string): string {
  return d ? `${side} ${formatPaired(d, 'worse')}` : `${side}: the optimum is this end`;
}

export function multiplierReport(input: ReportInput): ReportContent {
  const f = multiplierFinding(input);
  const unfitted = f.cells.reduce((s, c) => s + c.trials - c.fitted, 0);
  const diverged = f.cells.reduce((s, c) => s + c.diverged, 0);
  return {
    title: input.spec.report.title ?? input.name,
    summary: [
      `each cell: the peak test accuracy over training of runs that reached the target train accuracy (plain SGD, output multiplier c, FLS = 1/c); ${unfitted} of ${f.cells.reduce((s, c) => s + c.trials, 0)} runs did not reach it (${diverged} diverged) and are left out of their cell.`,
      ...f.rows.map((r) =>
        r.fittedC.length < 2
          ? `η/c = ${r.rate}: fewer than two c values fitted on every seed (${r.fittedC.join(', ') || 'none'}); no optimum read.`
          : `η/c = ${r.rate}: fitted c ${r.fittedC.join(', ')}; optimal c per seed, log₁₀ mean ${formatMeanSe(r.logOptimalC)} (c* ≈ ${formatValue(10 ** r.logOptimalC.mean)})${r.selected === null ? '' : `; picked on seeds ${f.seedsA.join(', ')}: c = ${r.selected}, tested on seeds ${f.seedsB.join(', ')} — ${gapText(r.lazyGap, `lazy end (c = ${r.fittedC[r.fittedC.length - 1]})`)}, ${gapText(r.richGap, `rich end (c = ${r.fittedC[0]})`)}`}.`,
      ),
    ],
    figures: [
      {
        id: 'multiplier_heatmap',
        caption: 'Peak test accuracy over training against the output multiplier c and the SGD learning rate η/c (the paper’s deep-net figure); red diamonds: the mean over seeds of each row’s optimal c (geometric). Cells whose runs did not reach the target train accuracy are empty.',
        spec: heatmap(f),
      },
    ],
    table: input.rows,
  };
}
