/** Statistics over seeds for the reports' claims: mean ± standard error, and paired differences. */

export interface MeanSe {
  readonly mean: number;
  /** Standard error of the mean, s/√n (0 for one value). */
  readonly se: number;
  readonly count: number;
}

export function meanSe(values: readonly number[]): MeanSe {
  const finite = values.filter((v) => Number.isFinite(v));
  const count = finite.length;
  if (count === 0) return { mean: NaN, se: NaN, count: 0 };
  // Values past 1e150 (diverged losses) are scaled down first: their sums and squares would overflow.
  const largest = Math.max(...finite.map(Math.abs));
  const scale = largest > 1e150 ? largest : 1;
  const scaled = scale === 1 ? finite : finite.map((v) => v / scale);
  const mean = scaled.reduce((a, b) => a + b, 0) / count;
  if (count === 1) return { mean: mean * scale, se: 0, count };
  const variance = scaled.reduce((a, v) => a + (v - mean) ** 2, 0) / (count - 1);
  return { mean: mean * scale, se: Math.sqrt(variance / count) * scale, count };
}

export interface PairedDifference extends MeanSe {
  /** How many pairs have a > b, and how many a < b. */
  readonly above: number;
  readonly below: number;
}

/** a − b over pairs matched by a key (the seed): mean ± SE and the count going each way. */
export function pairedDifference(pairs: readonly (readonly [number, number])[]): PairedDifference {
  const d = pairs.map(([a, b]) => a - b);
  return { ...meanSe(d), above: d.filter((v) => v > 0).length, below: d.filter((v) => v < 0).length };
}

/** a − b over the seeds both maps have (seed → value): the pairing of every report's by-seed claims. */
export function pairedBySeed(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): PairedDifference {
  return pairedDifference([...a].filter(([seed]) => b.has(seed)).map(([seed, v]) => [v, b.get(seed) as number] as const));
}

/** "0.62 ± 0.01" with 2 significant digits of the error. */
export function formatMeanSe(m: MeanSe): string {
  if (!Number.isFinite(m.mean)) return 'n/a';
  if (m.se === 0 && Number.isInteger(m.mean)) return `${m.mean} ± 0`;
  const digits = m.se > 0 ? Math.max(0, Math.min(6, 1 - Math.floor(Math.log10(m.se)))) : 3;
  return `${m.mean.toFixed(digits)} ± ${m.se.toFixed(digits)}`;
}

/** "m ± se (t = x, k of n seeds <direction>, j the other way)" for a paired difference. */
export function formatPaired(d: PairedDifference, direction: string): string {
  const t = d.se > 0 ? d.mean / d.se : NaN;
  return `${formatMeanSe(d)} (t = ${Number.isFinite(t) ? t.toFixed(1) : 'n/a'}, ${d.above} of ${d.count} seeds ${direction}, ${d.below} the other way)`;
}

/** The least-squares slope of y on x (null with fewer than two distinct x). */
export function slope(points: readonly (readonly [number, number])[]): number | null {
  if (points.length < 2) return null;
  const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
  const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  return sxx > 0 ? sxy / sxx : null;
}
