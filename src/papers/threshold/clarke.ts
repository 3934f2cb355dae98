/**
 * Seed 001's stationary points read with a Clarke-type rule (the clarke profile; train/windowStationarity.ts).
 * Each small-init run ends in one of three classes:
 * - stationary non-interpolating: the window rule fired (‖ḡ‖ and the loss change over the window within
 *   tolerance) with L_train ≥ ½·L_train(least squares);
 * - escaped: L_train < ½·L_train(least squares), however it stopped;
 * - still sliding: neither, at the step limit.
 * Fractions carry the binomial standard error √(p(1 − p)/k). The threshold n* is where the fraction of
 * non-interpolating runs crosses ½, interpolated linearly in log n; read at several step budgets (each run's
 * state at the last recorded step within the budget) it shows how n* moves with the budget.
 */
import type { Datum } from '../../report/charts.js';
import { formatValue, groupBy } from '../../report/data.js';
import { formatPaired, type MeanSe, pairedDifference, type PairedDifference } from '../../report/statistics.js';

export const RUN_CLASSES = ['stationary non-interpolating', 'escaped', 'still sliding'] as const;
export type RunClass = (typeof RUN_CLASSES)[number];

/** The class of one finished run (its row), or null without a least-squares baseline. */
export function runClass(d: Datum): RunClass | null {
  const loss = d.train_loss;
  const baseline = d['baseline.trainLoss'];
  if (typeof loss !== 'number' || typeof baseline !== 'number') return null;
  if (loss < 0.5 * baseline) return 'escaped';
  return d.stop_reason === 'windowStationary' ? 'stationary non-interpolating' : 'still sliding';
}

export interface ClassFraction {
  readonly n: number;
  readonly runClass: RunClass;
  readonly count: number;
  readonly runs: number;
  readonly fraction: number;
  readonly se: number;
}

/** Per n, the fraction of runs in each class with its binomial standard error. */
export function classFractions(rows: readonly Datum[]): ClassFraction[] {
  const classed = rows.flatMap((d) => {
    const c = runClass(d);
    return c !== null && typeof d['data.n'] === 'number' ? [{ n: d['data.n'], c }] : [];
  });
  return [...groupBy(classed, (x) => x.n)]
    .sort((a, b) => a[0] - b[0])
    .flatMap(([n, classes]) =>
      RUN_CLASSES.map((runClass) => {
        const count = classes.filter((x) => x.c === runClass).length;
        const p = count / classes.length;
        return { n, runClass, count, runs: classes.length, fraction: p, se: Math.sqrt((p * (1 - p)) / classes.length) };
      }),
    );
}

/**
 * The n where a fraction rising with n crosses ½, linear in log n between the last n below ½ and the first at or
 * above it; null when it never reaches ½, or is already there at the smallest n (then n* ≤ that n).
 */
export function crossing(points: readonly { n: number; fraction: number }[]): { n: number | null; atOrBelow: number | null } {
  const sorted = [...points].sort((a, b) => a.n - b.n);
  const first = sorted.findIndex((p) => p.fraction >= 0.5);
  if (first < 0) return { n: null, atOrBelow: null };
  if (first === 0) return { n: null, atOrBelow: sorted[0].n };
  const [lo, hi] = [sorted[first - 1], sorted[first]];
  const t = (0.5 - lo.fraction) / (hi.fraction - lo.fraction);
  return { n: Math.exp(Math.log(lo.n) + t * (Math.log(hi.n) - Math.log(lo.n))), atOrBelow: null };
}

export interface BudgetThreshold {
  readonly budget: number;
  /** Per n: the fraction of runs whose training loss at the budget is at least half of least squares'. */
  readonly fractions: { n: number; fraction: number; runs: number }[];
  readonly threshold: { n: number | null; atOrBelow: number | null };
}

/**
 * n* read at step budgets: each run's state is its training loss at the last recorded step ≤ budget (a run that
 * stopped earlier keeps its final state). `curves` holds trainLoss per trial and step; `rows` the runs.
 */
export function thresholdAgainstBudget(rows: readonly Datum[], curves: readonly Datum[], budgets: readonly number[]): BudgetThreshold[] {
  const points = curves.flatMap((c) => (typeof c.trainLoss === 'number' && typeof c.step === 'number' ? [{ trial: String(c.trial), step: c.step, loss: c.trainLoss }] : []));
  const byTrial = groupBy(points, (p) => p.trial);
  for (const list of byTrial.values()) list.sort((a, b) => a.step - b.step);
  return budgets.map((budget) => {
    const flagged = rows.flatMap((d) => {
      const curve = byTrial.get(String(d.trial_id));
      const baseline = d['baseline.trainLoss'];
      const n = d['data.n'];
      if (!curve || typeof baseline !== 'number' || typeof n !== 'number') return [];
      const state = [...curve].reverse().find((p) => p.step <= budget);
      return state ? [{ n, nonInterpolating: state.loss >= 0.5 * baseline }] : [];
    });
    const fractions = [...groupBy(flagged, (f) => f.n)]
      .sort((a, b) => a[0] - b[0])
      .map(([n, f]) => ({ n, fraction: f.filter((x) => x.nonInterpolating).length / f.length, runs: f.length }));
    return { budget, fractions, threshold: crossing(fractions) };
  });
}

/** Budgets to read n* at: 10⁴, 3·10⁴, 10⁵, 3·10⁵, … up to the largest step any run took, and that step. */
export function budgetsUpTo(maxStep: number): number[] {
  const out: number[] = [];
  for (let decade = 1e4; decade <= maxStep; decade *= 10) for (const b of [decade, 3 * decade]) if (b < maxStep) out.push(b);
  return [...out, maxStep];
}

/**
 * Chatter at the end of the non-interpolating runs the rule did not certify: log₁₀ of the per-step ‖∇L‖ over the
 * window-mean ‖ḡ‖, per run (paired within the run). Far above 0: the iterate oscillates about a point that moves
 * far slower than its per-step gradient says, the case a per-step gradient rule misreads as "still moving".
 */
export function chatter(rows: readonly Datum[]): PairedDifference {
  const pairs = rows
    .filter((d) => runClass(d) === 'still sliding' && typeof d['gradient.norm'] === 'number' && typeof d['window.meanGradient'] === 'number' && (d['window.meanGradient'] as number) > 0)
    .map((d) => [Math.log10(d['gradient.norm'] as number), Math.log10(d['window.meanGradient'] as number)] as const);
  return pairedDifference(pairs);
}

/** Agresti–Caffo difference of two binomial fractions (one added success and failure each): estimate and SE, finite at 0/k and k/k. */
export function fractionDifference(a: { count: number; runs: number }, b: { count: number; runs: number }): MeanSe {
  const p = (x: { count: number; runs: number }) => (x.count + 1) / (x.runs + 2);
  const [pa, pb] = [p(a), p(b)];
  return { mean: pa - pb, se: Math.sqrt((pa * (1 - pa)) / (a.runs + 2) + (pb * (1 - pb)) / (b.runs + 2)), count: a.runs + b.runs };
}

/** The report's sentences: the classes per n, the window rule against the per-step gradient, n* against the budget. */
export function clarkeLines(rows: readonly Datum[], budgets: readonly BudgetThreshold[]): string[] {
  const fractions = classFractions(rows);
  const lines: string[] = [];
  for (const n of [...new Set(fractions.map((f) => f.n))]) {
    const own = fractions.filter((f) => f.n === n);
    lines.push(`n = ${n}: ${own.map((f) => `${f.runClass} ${f.count}/${f.runs} (${formatValue(f.fraction)} ± ${formatValue(f.se)})`).join(', ')}.`);
  }
  const certified = rows.filter((d) => runClass(d) === 'stationary non-interpolating');
  const perStep = certified.map((d) => d['gradient.norm']).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  const window = certified.map((d) => d['window.meanGradient']).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  if (perStep.length > 0 && window.length > 0) {
    const median = (v: number[]) => v[Math.floor(v.length / 2)];
    lines.push(
      `the ${certified.length} certified runs: window-mean gradient ‖ḡ‖ median ${formatValue(median(window))} (at most ${formatValue(window[window.length - 1])}) against a per-step ‖∇L‖ at the same point of median ${formatValue(median(perStep))} (${perStep.filter((g) => g > 1e-8).length} of ${perStep.length} above 1e-8, where a per-step rule would call them still moving).`,
    );
  }
  const slide = chatter(rows);
  if (slide.count > 0)
    lines.push(`chatter of the ${slide.count} runs still sliding at the limit: log₁₀ (per-step ‖∇L‖ / window-mean ‖ḡ‖) ${formatPaired(slide, 'with the per-step gradient larger')}.`);
  const collapse = certified.map((d) => d['baseline.alignedMass']).filter((v): v is number => typeof v === 'number');
  const chance = certified.map((d) => d['baseline.alignedMass.chance']).find((v): v is number => typeof v === 'number');
  if (collapse.length > 0 && chance !== undefined) {
    const mean = collapse.reduce((a, b) => a + b, 0) / collapse.length;
    const se = Math.sqrt(collapse.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, collapse.length - 1) / collapse.length);
    lines.push(`collapse onto ±β̂ at the certified points: the share of neuron mass within 10° of sign(a_j)·β̂ is ${formatValue(mean)} ± ${formatValue(se)} over ${collapse.length} runs (random directions: ${formatValue(chance)}).`);
  }
  const read = budgets.map((b) => `${formatValue(b.budget)} steps: ${b.threshold.n !== null ? `n* ≈ ${formatValue(b.threshold.n)}` : b.threshold.atOrBelow !== null ? `n* ≤ ${b.threshold.atOrBelow}` : 'no n run stops interpolating'}`);
  if (read.length > 0) lines.push(`n* against the step budget (where half the runs are still at or above half of least squares' loss): ${read.join('; ')}.`);
  // At convergence: among the runs the rule resolved (certified stationary, or escaped), leaving out the sliding ones.
  const resolved = [...new Set(fractions.map((f) => f.n))].map((n) => {
    const own = fractions.filter((f) => f.n === n);
    const count = (c: RunClass) => own.find((f) => f.runClass === c)?.count ?? 0;
    const done = count('stationary non-interpolating') + count('escaped');
    return { n, fraction: done > 0 ? count('stationary non-interpolating') / done : 0, done, sliding: count('still sliding') };
  });
  const converged = crossing(resolved.filter((r) => r.done > 0));
  const sliding = resolved.reduce((s, r) => s + r.sliding, 0);
  lines.push(
    `n* at convergence (over the runs the rule resolved, ${sliding} still sliding left out): ${converged.n !== null ? `≈ ${formatValue(converged.n)}` : converged.atOrBelow !== null ? `≤ ${converged.atOrBelow}` : 'not reached in this range of n'}${sliding > 0 ? ' — a bound while runs still slide' : ''}.`,
  );
  return lines;
}
