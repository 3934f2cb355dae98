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

/** The part of the fls spec that sweeps c × learning rate (or × the images' intrinsic dimension). */
export const MULTIPLIER_PART = 'multiplier';

const C = 'model.outputScale';
const BEST = 'best.testError';

/**
 * What the rows of the plane vary: the SGD rate (the paper's η/c), or the intrinsic dimension r of the
 * synthetic images (the paper's data of controlled effective dimension: harder data should gain more
 * from the optimal c over the lazy end).
 */
export const ROW_AXES = {
  rate: { field: 'training.learningRate', label: 'η/c', title: 'SGD learning rate η/c (log)' },
  latentDim: { field: 'data.images.latentDim', label: 'r', title: 'intrinsic dimension r of the images (log)' },
} as const;
export type RowAxis = (typeof ROW_AXES)[keyof typeof ROW_AXES];

export interface MultiplierCell {
  readonly c: number;
  /** The row's value on the finding's row axis. */
  readonly row: number;
  /** Peak test accuracy (1 − least test error over training) of the trials that reached the target train accuracy. */
  readonly accuracy: MeanSe;
  readonly trials: number;
  readonly fitted: number;
  readonly diverged: number;
}

export interface MultiplierRow {
  readonly row: number;
  /** The c values every seed of this row fitted (the paper reads only runs that reach the target). */
  readonly fittedC: readonly number[];
  /** log₁₀ of each seed's best c among fittedC, over all seeds. */
  readonly logOptimalC: MeanSe;
  /** The optimum by mean peak accuracy on seeds A (the first half), and the sides tested on seeds B. */
  readonly selected: number | null;
  /** Seeds B: best test error at the largest fitted c (the lazy end) − at the selected c. */
  readonly lazyGap: PairedDifference | null;
  /** The same per seed of B, for comparing rows. */
  readonly lazyGapBySeed: ReadonlyMap<number, number> | null;
  /** Seeds B: best test error at the smallest fitted c (the rich end) − at the selected c. */
  readonly richGap: PairedDifference | null;
}

export interface MultiplierFinding {
  readonly axis: RowAxis;
  readonly cells: readonly MultiplierCell[];
  readonly rows: readonly MultiplierRow[];
  readonly seedsA: readonly number[];
  readonly seedsB: readonly number[];
  /** With the dimension as the row axis: the lazy-end gap at the largest r minus at the smallest, paired by seed over seeds B (> 0: harder data gains more). */
  readonly harderGainsMore: PairedDifference | null;
}

const fits = (d: Datum) => d.status === 'completed' && d.stop_reason === 'targetAccuracy';

export function multiplierFinding(input: ReportInput): MultiplierFinding {
  const part = input.rows.filter((r) => r.part === MULTIPLIER_PART);
  const dimensions = new Set(part.map((r) => r[ROW_AXES.latentDim.field]).filter((v) => typeof v === 'number'));
  const axis = dimensions.size > 1 ? ROW_AXES.latentDim : ROW_AXES.rate;
  const ROW = axis.field;
  const data = numericRows(part, [C, ROW, 'seed']);
  const seeds = [...new Set(data.map((d) => d.seed as number))].sort((a, b) => a - b);
  const half = Math.ceil(seeds.length / 2);
  const [seedsA, seedsB] = [seeds.slice(0, half), seeds.slice(half)];
  const values = (field: string) => [...new Set(data.map((d) => d[field] as number))].sort((a, b) => a - b);
  const cells: MultiplierCell[] = [];
  for (const row of values(ROW))
    for (const c of values(C)) {
      const own = data.filter((d) => d[ROW] === row && d[C] === c);
      const fitted = own.filter(fits);
      cells.push({ c, row, accuracy: meanSe(fitted.map((d) => 1 - (d[BEST] as number))), trials: own.length, fitted: fitted.length, diverged: part.filter((r) => r[ROW] === row && r[C] === c && r.status === 'diverged').length });
    }
  const rows = values(ROW).map((row): MultiplierRow => {
    const own = data.filter((d) => d[ROW] === row);
    const errorAt = (c: number, among: readonly number[]) => new Map(own.filter((d) => d[C] === c && among.includes(d.seed as number) && fits(d)).map((d) => [d.seed as number, d[BEST] as number]));
    const fittedC = values(C).filter((c) => errorAt(c, seeds).size === seeds.length);
    const perSeedBest = seeds.map((seed) => {
      const errors = fittedC.map((c) => errorAt(c, [seed]).get(seed) as number);
      return fittedC[errors.indexOf(Math.min(...errors))];
    });
    const logOptimalC = fittedC.length >= 2 ? meanSe(perSeedBest.map(Math.log10)) : meanSe([]);
    if (fittedC.length < 3 || seedsB.length === 0) return { row, fittedC, logOptimalC, selected: null, lazyGap: null, lazyGapBySeed: null, richGap: null };
    const meanA = fittedC.map((c) => meanSe([...errorAt(c, seedsA).values()]).mean);
    const selected = fittedC[meanA.indexOf(Math.min(...meanA))];
    const atSelected = errorAt(selected, seedsB);
    const gap = (c: number) => (c === selected ? null : pairedBySeed(errorAt(c, seedsB), atSelected));
    const lazyC = fittedC[fittedC.length - 1];
    const lazyAt = errorAt(lazyC, seedsB);
    const lazyGapBySeed = lazyC === selected ? null : new Map([...lazyAt].filter(([seed]) => atSelected.has(seed)).map(([seed, e]) => [seed, e - (atSelected.get(seed) as number)]));
    return { row, fittedC, logOptimalC, selected, lazyGap: gap(lazyC), lazyGapBySeed, richGap: gap(fittedC[0]) };
  });
  const [easiest, hardest] = [rows[0], rows[rows.length - 1]];
  const harderGainsMore = axis === ROW_AXES.latentDim && rows.length > 1 && easiest.lazyGapBySeed && hardest.lazyGapBySeed ? pairedBySeed(hardest.lazyGapBySeed, easiest.lazyGapBySeed) : null;
  return { axis, cells, rows, seedsA, seedsB, harderGainsMore };
}

/** Peak test accuracy as squares on the (c, learning rate) plane; unfitted cells hollow, each row's optimal c ringed. */
function heatmap(f: MultiplierFinding): TopLevelSpec {
  const x = { field: 'c', type: 'quantitative', title: 'output multiplier c (log)', scale: { type: 'log' } };
  const y = { field: 'row', type: 'quantitative', title: f.axis.title, scale: { type: 'log' } };
  const cells = f.cells.map((cell) => ({ c: cell.c, row: cell.row, accuracy: Number.isFinite(cell.accuracy.mean) ? cell.accuracy.mean : null, fitted: `${cell.fitted} of ${cell.trials}` }));
  const optima = f.rows.filter((r) => Number.isFinite(r.logOptimalC.mean)).map((r) => ({ c: 10 ** r.logOptimalC.mean, row: r.row }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Peak test accuracy on the (c, ${f.axis.label}) plane`,
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
          tooltip: [{ field: 'c' }, { field: 'row', title: f.axis.label }, { field: 'accuracy', format: '.3f' }, { field: 'fitted', title: 'fitted seeds' }],
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
          ? `${f.axis.label} = ${r.row}: fewer than two c values fitted on every seed (${r.fittedC.join(', ') || 'none'}); no optimum read.`
          : `${f.axis.label} = ${r.row}: fitted c ${r.fittedC.join(', ')}; optimal c per seed, log₁₀ mean ${formatMeanSe(r.logOptimalC)} (c* ≈ ${formatValue(10 ** r.logOptimalC.mean)})${r.selected === null ? '' : `; picked on seeds ${f.seedsA.join(', ')}: c = ${r.selected}, tested on seeds ${f.seedsB.join(', ')} — ${gapText(r.lazyGap, `lazy end (c = ${r.fittedC[r.fittedC.length - 1]})`)}, ${gapText(r.richGap, `rich end (c = ${r.fittedC[0]})`)}`}.`,
      ),
      ...(f.harderGainsMore
        ? [`harder data gains more: the lazy end's excess test error at r = ${f.rows[f.rows.length - 1].row} minus at r = ${f.rows[0].row}, each against its own optimum picked on seeds ${f.seedsA.join(', ')}, on seeds ${f.seedsB.join(', ')}: ${formatPaired(f.harderGainsMore, 'gaining more at the larger r')}.`]
        : []),
    ],
    figures: [
      {
        id: 'multiplier_heatmap',
        caption: `Peak test accuracy over training against the output multiplier c and ${f.axis === ROW_AXES.rate ? 'the SGD learning rate η/c (the paper’s deep-net figure)' : 'the intrinsic dimension r of the synthetic images (the paper’s data of controlled effective dimension)'}; red diamonds: the mean over seeds of each row’s optimal c (geometric). Cells whose runs did not reach the target train accuracy are empty.`,
        spec: heatmap(f),
      },
    ],
    table: input.rows,
  };
}
