/**
 * Every built-in experiment at its quick profile (several seeds each): the paper's phenomenon is
 * asserted with a margin, and its report renders (SVG parses, PNG has the stated size and is not
 * blank, the HTML references only files that exist).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { builtinNames, builtinPath } from '../../src/experiments/builtins.js';
import { loadExperimentFile } from '../../src/experiments/experimentSpec.js';
import { runExperiment } from '../../src/run/executor.js';
import { SilentProgress } from '../../src/run/progress.js';
import { Store } from '../../src/run/store.js';
import { reportInput } from '../../src/report/data.js';
import { writeExperimentReport } from '../../src/report/index.js';
import { pngSize } from '../../src/report/render.js';
import { flsCurve, flsData, knobAgreement, pairedAt } from '../../src/papers/fls/report.js';
import { extremalConcentration, nonInterpolatingFractions, thresholdData, thresholdFinding } from '../../src/papers/threshold/report.js';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { chatter, type ClassFraction, classFractions, fractionDifference } from '../../src/papers/threshold/clarke.js';
import { deepNetAlignment, mechanismsAnalysis, ntkWidthFinding } from '../../src/papers/mechanisms/report.js';
import { initScaleFinding, twoLayerFinding } from '../../src/papers/mechanisms/initScale.js';
import { multiplierFinding } from '../../src/papers/fls/outputMultiplier.js';
import { mixtureFinding, mixtureRuns } from '../../src/papers/fls/mixture.js';
import { cutoffSweep, jacobianFinding, type NoiseLevelFinding } from '../../src/papers/jacobian/report.js';
import { normRatioFinding } from '../../src/papers/jacobian/normRatios.js';
import { clusterSpectrumFinding, type ClusterSpectrumFinding } from '../../src/papers/jacobian/clusterSpectrum.js';
import { formatMeanSe, type MeanSe, pairedDifference, type PairedDifference } from '../../src/report/statistics.js';
import { spanFindings } from '../../src/papers/overparam/report.js';
import { curveData, numericRows } from '../../src/report/data.js';
import type { Datum } from '../../src/report/charts.js';
import { tempDir } from '../run/fixtures.js';

const dir = tempDir();
const db = join(dir, 'builtins.db');

async function runQuick(name: string): Promise<Store> {
  const path = builtinPath(name);
  assert.ok(path, `${name} is a built-in`);
  const store = Store.open(db);
  const summary = await runExperiment(loadExperimentFile(path, 'quick'), { store, threads: 2, progress: new SilentProgress() });
  assert.equal(summary.failed, 0);
  return store;
}

/** mean ≥ 3 SE above zero, with a spread to measure. */
function atLeast3Se(d: MeanSe): boolean {
  return d.se > 0 && d.mean >= 3 * d.se;
}

/** A field at two values of the width fraction, paired by seed (the span part). */
function bySeed(input: ReturnType<typeof reportInput>, field: string, a: number, b: number): [number, number][] {
  const rows = numericRows(input.rows, ['comparison.widthFraction', 'seed', field]).filter((r) => (r.part ?? 'span') === 'span');
  const at = (alpha: number) => new Map(rows.filter((r) => r['comparison.widthFraction'] === alpha).map((r) => [r.seed as number, r[field] as number]));
  const [first, second] = [at(a), at(b)];
  return [...first].filter(([seed]) => second.has(seed)).map(([seed, v]) => [v, second.get(seed) as number]);
}

/** A built-in's profile run into the shared store, with no failed trial. */
async function runProfile(name: string, profile: string): Promise<Store> {
  const store = Store.open(db);
  const summary = await runExperiment(loadExperimentFile(builtinPath(name) as string, profile), { store, threads: 2, progress: new SilentProgress() });
  assert.equal(summary.failed, 0);
  return store;
}

async function checkReport(store: Store, experiment: string, minFigures = 3): Promise<void> {
  const out = join(dir, 'reports', experiment);
  const { content, written } = await writeExperimentReport(store, experiment, out);
  assert.ok(content.figures.length >= minFigures, 'the paper’s figures');
  assert.ok(content.summary.length >= 1);
  for (const figure of content.figures) {
    const svg = readFileSync(join(out, `${figure.id}.svg`), 'utf8');
    const parsed = new Resvg(svg);
    const png = readFileSync(join(out, `${figure.id}.png`));
    assert.deepEqual(pngSize(png), { width: Math.round(parsed.width * 2), height: Math.round(parsed.height * 2) });
    const pixels = parsed.render().pixels;
    let ink = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 200 && pixels[i + 3] > 0) ink++;
    assert.ok(ink > 500, `${figure.id}: not blank (${ink} dark pixels)`);
  }
  const html = readFileSync(written.html, 'utf8');
  const refs = [...html.matchAll(/(?:href|src)="([^"#]+)"/g)].map((m) => m[1]);
  assert.ok(refs.length > 0);
  for (const ref of refs) assert.ok(existsSync(join(out, ref)), `${ref} exists`);
  assert.ok((html.match(/<svg/g) ?? []).length >= content.figures.length, 'figures inlined');
}

describe('built-in experiments at --quick', () => {
  it('ships the five papers and a quickstart', () => {
    for (const name of ['fls', 'threshold', 'mechanisms', 'jacobian', 'overparam', 'quickstart']) assert.ok(builtinNames().includes(name), name);
  });

  it('fls: an interior optimum with both sides ≥ 3 SE above it (paired by seed); the knobs agree; noise fitted on the lazy side, neurons aligned beyond random on the rich side', async () => {
    const store = await runQuick('fls');
    const data = flsData(reportInput(store, 'fls-quick'));
    const main = data.filter((r) => r.part === 'init-scale');
    const curve = flsCurve(main);
    assert.ok(curve, 'a curve');
    const show = (d: PairedDifference) => `${formatMeanSe(d)} (${d.above}/${d.count} up)`;
    assert.ok(curve.interior, `optimum at FLS ${curve.optimum.fls}`);
    for (const side of [curve.lazy, curve.rich]) {
      assert.equal(side.difference.count, 20);
      assert.ok(side.difference.se > 0 && side.difference.mean >= 3 * side.difference.se, `FLS ${side.fls}: ${show(side.difference)}`);
    }
    // The output multiplier α = λ² with the co-scaled rate is the init scale λ: the same numbers.
    assert.deepEqual(knobAgreement(data), { twins: 6, equal: 6 });
    // Over-fitting: the lazy end fits more of the flipped points than the rich end.
    const noise = pairedAt(main, 'overfitting.noiseFitted', curve.lazy.fls, curve.rich.fls);
    assert.ok(noise.se > 0 && noise.mean >= 3 * noise.se, `fitted noise, lazy − rich: ${show(noise)}`);
    // Over-alignment: at the rich end the trained neurons are more aligned than the same net's random initial ones.
    const rich = main.filter((r) => r.feature_learning_strength === curve.rich.fls);
    for (const field of ['weightedAbsPairCosine', 'top2DirectionMass']) {
      const d = pairedDifference(rich.map((r) => [r[`neurons.${field}`] as number, r[`neurons.random.${field}`] as number] as const));
      assert.ok(d.se > 0 && d.mean >= 3 * d.se, `${field} trained − random: ${show(d)}`);
    }
    await checkReport(store, 'fls-quick');
    store.close();
  });

  it('threshold: the net interpolates below the threshold, tracks least squares above it, and the test loss drops', async () => {
    const store = await runQuick('threshold');
    const f = thresholdFinding(thresholdData(reportInput(store, 'threshold-quick')));
    // Thm 3.1: the extremal vector nearest β* concentrates like √(d/n): log-log slope < 0 at ≥ 3 SE, −½ inside its 95 % t interval.
    const concentration = extremalConcentration(thresholdData(reportInput(store, 'threshold-quick')));
    assert.ok(concentration !== null && concentration.count === 2 && concentration.mean < -3 * concentration.se, JSON.stringify(concentration));
    const halfWidth = tQuantile(0.975, concentration.count - 1) * concentration.se;
    assert.ok(Math.abs(concentration.mean + 0.5) <= halfWidth, `slope ${formatMeanSe(concentration)}, −½ outside ± ${halfWidth}`);
    const train = new Map(f.trainLoss.map((p) => [p.x, p.mean]));
    const ols = new Map(f.baselineTrain.map((p) => [p.x, p.mean]));
    const test = new Map(f.testLoss.map((p) => [p.x, p.mean]));
    assert.ok((train.get(10) as number) < 0.01, `train loss at n = 10: ${train.get(10)}`);
    assert.ok((train.get(320) as number) > 0.5 * (ols.get(320) as number), 'no interpolation at n = 320');
    assert.ok(f.threshold !== null && f.threshold > 10 && f.threshold <= 160, `threshold ${f.threshold}`);
    assert.ok((test.get(320) as number) < (test.get(10) as number) / 5, 'the test loss drops');
    // The paper's ablation: a large (lazy) init interpolates at every n, far below least squares (issue 15: < 0.1×).
    const data = thresholdData(reportInput(store, 'threshold-quick'));
    const large = data.filter((d) => d.part === 'large-init');
    assert.equal(large.length, 3);
    for (const d of large) assert.ok((d.train_loss as number) < 0.1 * (d['baseline.trainLoss'] as number), `large init at n = ${d['data.n']}: ${d.train_loss}`);
    const fractions = nonInterpolatingFractions(data);
    assert.ok(fractions.filter((p) => p.part === 'large-init').every((p) => p.fraction === 0));
    // Early alignment: from a small init the neurons gather on extremal vectors of D(w) (far above random directions) before the loss has moved much.
    const curves = curveData(reportInput(store, 'threshold-quick'), ['extremal.alignedMass', 'extremal.alignedMass.chance', 'trainLoss']).filter((d) => d.part === 'small-init');
    for (const trial of new Set(curves.map((d) => d.trial))) {
      const own = curves.filter((d) => d.trial === trial).sort((a, b) => (a.step as number) - (b.step as number));
      // The first recorded step with half the mass on extremal vectors (random directions: under 1%).
      const aligned = own.find((d) => (d['extremal.alignedMass'] as number) >= 0.5);
      assert.ok(aligned, `trial ${trial} never aligns`);
      assert.ok((own[0]['extremal.alignedMass.chance'] as number) < 0.01);
      assert.ok((aligned.trainLoss as number) > 0.9 * (own[0].trainLoss as number), `aligned at step ${aligned.step} while the loss is still near its start`);
    }
    await checkReport(store, 'threshold-quick');
    store.close();
  });

  it('fls --profile mixture-quick: in the paper’s Gaussian mixture, phase 1 lasts longer from smaller inits, the neurons come closer to the empirical class means, sit on them at the stop, and the lazy end’s predictor is farther from s than the optimum (picked on seeds 0–2, tested on 3–5)', async () => {
    const store = await runProfile('fls', 'mixture-quick');
    const input = reportInput(store, 'fls-mixture-quick');
    const runs = mixtureRuns(numericRows(input.rows, ['model.initScale']), curveData(input, ['trainLoss', 'mixture.angleToMean']), 40);
    const f = mixtureFinding(runs);
    assert.equal(runs.length, 36);
    // t₁ against ln(1/α): the paper's Θ(log(1/α)) is a positive slope, per seed.
    assert.ok(f.phaseOne[0].count === 6 && atLeast3Se(f.phaseOne[0]), `phase 1 slope ${formatMeanSe(f.phaseOne[0])}`);
    // The closest approach to x̄± shrinks with α (the paper: like √α; the measured slope is reported beside ½).
    assert.ok(atLeast3Se(f.approach[0]), `approach slope ${formatMeanSe(f.approach[0])}`);
    assert.ok(atLeast3Se(f.overAlignment[0]) && f.overAlignment[0].count === 6, `over-alignment ${formatMeanSe(f.overAlignment[0])}`);
    const optimum = f.optimum[0];
    assert.deepEqual([optimum.pickedOn, optimum.testedOn], [[0, 1, 2], [3, 4, 5]]);
    assert.ok(atLeast3Se(optimum.lazy), `lazy end minus the optimum ${formatMeanSe(optimum.lazy)}`);
    await checkReport(store, 'fls-mixture-quick');
    store.close();
  });

  it('threshold --profile clarke-quick: runs below n* escape least squares, runs above it do not, and those still sliding chatter (per-step ‖∇L‖ far above the window mean)', async () => {
    const store = await runProfile('threshold', 'clarke-quick');
    const rows = thresholdData(reportInput(store, 'threshold-clarke-quick')).filter((d) => d.part === 'small-init');
    const fractions = classFractions(rows);
    const escaped = (n: number) => fractions.find((f) => f.n === n && f.runClass === 'escaped') as ClassFraction;
    // Below the threshold every run leaves least squares; above it none does (Agresti–Caffo difference at ≥ 3 SE over 6 seeds each).
    const difference = fractionDifference(escaped(20), escaped(320));
    assert.deepEqual([escaped(20).runs, escaped(320).runs], [6, 6]);
    assert.ok(atLeast3Se(difference), `escaped at n = 20 minus at 320: ${formatMeanSe(difference)}`);
    // The sliding runs' per-step gradient is ≥ 3 SE above their window-mean gradient (log₁₀, paired within each run).
    const slide = chatter(rows);
    assert.ok(slide.count >= 3 && atLeast3Se(slide), `log₁₀ per-step / window-mean ‖∇L‖: ${formatMeanSe(slide)} over ${slide.count} runs`);
    await checkReport(store, 'threshold-clarke-quick');
    store.close();
  });

  it('mechanisms: the exact solution equals the simulation; the phase diagram and nonlinear alignment', async () => {
    const store = await runQuick('mechanisms');
    const { finding, phase, ntkWidth } = mechanismsAnalysis(reportInput(store, 'mechanisms-quick'));
    // The kernel limit in width (NTK parametrization, init 1): |log10 K∞/K₀| falls from m = 10 to 1000, paired by seed
    // at ≥ 3 SE, each cell as the closed form says (measured 0.0923 → 0.00142).
    const width = ntkWidthFinding(ntkWidth);
    assert.ok(width.fall !== null && width.fall.count === 3 && atLeast3Se(width.fall), JSON.stringify(width));
    for (const d of ntkWidth) assert.ok(Math.abs((d.measured as number) - (d.predicted as number)) < 1e-3, JSON.stringify(d));
    assert.ok(finding.maxOutputError < 1e-4 && finding.maxAlignmentError < 1e-4, JSON.stringify(finding));
    assert.ok(finding.phaseAgreement.agree >= 0.8 * finding.phaseAgreement.total && finding.phaseAgreement.total === 27, JSON.stringify(finding.phaseAgreement)); // 15 + 2 + 6 + 6 cells, 2 shared by the width and output parts
    // The kernel limit in the learning-rate ratio (init 0.1): log10 K∞/K₀ falls toward 0 from ratio 1 out to 1e±6 on
    // both sides, simulated as the closed form says (measured 1.59 → 0.255 → 0.0048 and → 0.052 → 5.9e-4).
    const at = (ratio: number) => phase.find((d) => d.part === 'phase' && d.initScale === 0.1 && Math.abs(Math.log10(d.ratio as number) - Math.log10(ratio)) < 1e-9) as Datum;
    const ladder = [1e-6, 1e-4, 1, 1e4, 1e6].map(at);
    for (const d of ladder) assert.ok(Math.abs((d.measured as number) - (d.predicted as number)) < 1e-3, JSON.stringify(d));
    const k = ladder.map((d) => d.measured as number);
    assert.ok(k[0] < k[1] && k[1] < k[2] && k[4] < k[3] && k[3] < k[2], `log10 K∞/K₀ ${k.join(', ')}`);
    for (const activation of ['relu', 'leakyRelu', 'swish']) assert.ok(finding.finalAlignment[activation] > 0.5, `${activation} aligns`);
    // Each mechanism from the init that isolates it, recognized by measurement (2 seeds each).
    const show = (m: unknown) => JSON.stringify(m);
    const measured = finding.mechanisms;
    assert.deepEqual(measured.map((m) => m.mechanism).sort(), ['alignment', 'alignment', 'disalignment', 'disalignment', 'rescaling', 'rescaling']);
    for (const m of measured.filter((c) => c.mechanism === 'rescaling')) assert.ok(m.alignmentDrift < 1e-3 && m.normRatioChange > 2, show(m));
    for (const m of measured.filter((c) => c.mechanism === 'disalignment')) assert.ok(m.alignmentChange < -0.3 && Math.abs(m.outputNormChange - 1) < 0.1 && Math.abs(m.hiddenNormChange - 1) < 0.1, show(m));
    // The drawn closed form folds α² and the parametrization's multipliers into the rates (issue 15).
    for (const name of ['standard, α = 2, seed 0', 'meanField, α = 1, seed 0']) assert.ok(finding.outputErrorByCase[name] < 1e-4, `${name}: ${finding.outputErrorByCase[name]}`);
    await checkReport(store, 'mechanisms-quick');
    store.close();
  });

  it('jacobian: a low-rank information space at the gap holds the clean labels, the noise sits at chance and is fitted late', async () => {
    const store = await runQuick('jacobian');
    const f = jacobianFinding(reportInput(store, 'jacobian-quick'));
    const level = (noise: number) => f.levels.find((l) => l.noise === noise) as NoiseLevelFinding;
    const clean = level(0);
    // Acceptance (issue 14): rank ≤ 20 of 200 at the automatic cutoff; clean energy ≥ 0.55; noise ⊥ clean ≤ 2·rank/n.
    assert.ok(clean.rank.mean + 3 * clean.rank.se <= 20 && clean.rank.count === 3, JSON.stringify(clean.rank));
    assert.ok(clean.cleanLabelEnergy.mean - 3 * clean.cleanLabelEnergy.se >= 0.55, `clean energy ${formatMeanSe(clean.cleanLabelEnergy)}`);
    for (const noise of [0.2, 0.4]) {
      const l = level(noise);
      const e = l.noiseEnergy as MeanSe;
      assert.ok(e.mean + 3 * e.se <= 2 * l.chance.mean, `${noise}: noise energy ${formatMeanSe(e)} vs 2·rank/n = ${2 * l.chance.mean}`);
      // The clean labels lie in I far above the noise, in every seed (3 SE).
      assert.ok(l.cleanLabelEnergy.mean - 3 * l.cleanLabelEnergy.se > e.mean + 3 * e.se);
      assert.equal(l.informationFirst.count, l.informationFirst.of, `${noise}: the information part halves first in every seed`);
    }
    assert.equal(clean.informationFirst.count, clean.informationFirst.of);
    const gain = level(0.4).earlyStoppingGain;
    assert.ok(gain.mean - 3 * gain.se > 0 && gain.above === gain.count, `early stopping gain ${formatMeanSe(gain)}`);
    await checkReport(store, 'jacobian-quick');
    store.close();
  });

  it('overparam: the feature span gap FSG(α) and the reverse gap are positive at the smallest α (≥ 3 SE over seeds) and grow as α shrinks; probe(M₁) beats probe(S_α) at the smallest α', async () => {
    const store = await runQuick('overparam');
    const input = reportInput(store, 'overparam-quick');
    const points = spanFindings(input);
    assert.deepEqual(points.map((p) => p.alpha), [0.5, 0.125, 0.03125]);
    const [widest, , narrowest] = points;
    const show = (d: PairedDifference) => `${formatMeanSe(d)} (${d.above}/${d.count})`;
    assert.ok(narrowest.seeds >= 4);
    assert.ok(atLeast3Se(narrowest.wideGap), `FSG(1/32) = ${show(narrowest.wideGap)}`);
    assert.ok(atLeast3Se(narrowest.narrowGap), `reverse gap at 1/32 = ${show(narrowest.narrowGap)}`);
    // The same seed trains the same M₁, M₁′ at every α: the growth is paired by seed.
    const growth = (field: string) => pairedDifference(bySeed(input, field, narrowest.alpha, widest.alpha));
    // Stitching at 1/32 (narrow nets of width 2): M₁'s head reads less from S_α's mapped features than from M₁′'s.
    assert.ok(atLeast3Se(narrowest.stitchGap), `stitch gap at 1/32 = ${show(narrowest.stitchGap)}`);
    assert.ok(atLeast3Se(growth('compare.gap.wide')), `FSG(1/32) − FSG(1/2) = ${show(growth('compare.gap.wide'))}`);
    assert.ok(atLeast3Se(growth('compare.gap.narrow')), `reverse gap growth = ${show(growth('compare.gap.narrow'))}`);
    assert.ok(atLeast3Se(narrowest.probeGap), `probe(M₁) − probe(S_1/32) = ${show(narrowest.probeGap)}`);
    await checkReport(store, 'overparam-quick');
    store.close();
  });
});

describe('built-in experiments on deep nets (synthetic images)', () => {
  it('mechanisms --profile deep-quick: a ResNet from a larger init fits its data with weights that move less and a worse test error (Fig. 3)', async () => {
    const store = await runProfile('mechanisms', 'deep-quick');
    const f = initScaleFinding(reportInput(store, 'mechanisms-deep-quick'));
    assert.deepEqual([f.from, f.to, f.unfitted, f.diverged], [0.25, 4, 0, 0], 'every trial fits its training set');
    // The paper's directions, paired by seed between the sweep's ends, each at ≥ 3 SE over 6 seeds.
    for (const [name, d] of Object.entries({ errorRise: f.errorRise, distanceDrop: f.distanceDrop, normRise: f.normRise })) {
      assert.equal(d.count, 6, name);
      assert.ok(atLeast3Se(d), `${name}: ${formatMeanSe(d)}`);
    }
    await checkReport(store, 'mechanisms-deep-quick');
    store.close();
  });

  it('mechanisms --profile two-layer-quick: at each learning rate a larger init moves a two-layer net’s weights less and tests worse, and at each init a larger rate moves them more (Figs. 4–5, on MNIST)', async () => {
    const store = await runProfile('mechanisms', 'two-layer-quick');
    const f = twoLayerFinding(reportInput(store, 'mechanisms-two-layer-quick'));
    assert.deepEqual(f.byRate.map((r) => r.rate), [0.01, 0.1]);
    for (const r of f.byRate) {
      assert.equal(r.distanceDrop.count, 4);
      assert.ok(atLeast3Se(r.distanceDrop), `η = ${r.rate}: distance drop ${formatMeanSe(r.distanceDrop)}`);
      assert.ok(atLeast3Se(r.errorRise), `η = ${r.rate}: best test error rise ${formatMeanSe(r.errorRise)}`);
    }
    for (const e of f.rateEffect) assert.ok(atLeast3Se(e), `σ = ${e.scale}: distance rise with η ${formatMeanSe(e)}`);
    await checkReport(store, 'mechanisms-two-layer-quick', 2);
    store.close();
  });

  it('fls --profile deep-quick: with plain SGD to 99 % train accuracy, a CNN’s peak test accuracy falls toward the lazy end of the output multiplier (optimum picked on seeds 0–3, tested on 4–7)', async () => {
    const store = await runProfile('fls', 'deep-quick');
    const f = multiplierFinding(reportInput(store, 'fls-deep-quick'));
    assert.deepEqual([f.seedsA, f.seedsB], [[0, 1, 2, 3], [4, 5, 6, 7]]);
    const [row] = f.rows;
    assert.deepEqual(row.fittedC, [0.03, 0.1, 0.3, 1, 3], 'every run reached the target train accuracy');
    const lazy = row.lazyGap;
    assert.ok(lazy && lazy.count === 4 && atLeast3Se(lazy), `lazy end minus the optimum on seeds 4–7: ${lazy ? formatMeanSe(lazy) : 'none'}`);
    await checkReport(store, 'fls-deep-quick', 1);
    store.close();
  });

  it('fls --profile mlp-quick: the same protocol on an MLP on MNIST: the lazy end’s peak test accuracy is worse than the optimum’s (picked on seeds 0–3, tested on 4–7)', async () => {
    const store = await runProfile('fls', 'mlp-quick');
    const f = multiplierFinding(reportInput(store, 'fls-mlp-quick'));
    assert.deepEqual([f.seedsA, f.seedsB], [[0, 1, 2, 3], [4, 5, 6, 7]]);
    const [row] = f.rows;
    assert.deepEqual(row.fittedC, [0.3, 1, 3], 'every run reached the target train accuracy');
    const lazy = row.lazyGap;
    assert.ok(lazy && lazy.count === 4 && atLeast3Se(lazy), `lazy end minus the optimum on seeds 4–7: ${lazy ? formatMeanSe(lazy) : 'none'}`);
    await checkReport(store, 'fls-mlp-quick', 1);
    store.close();
  });

  it('jacobian --profile clusters: on a K-cluster mixture the top K·C singular values grow faster with n than the rest, and the gap after them opens (Fig. 3)', async () => {
    const store = Store.open(db);
    const summary = await runExperiment(loadExperimentFile(builtinPath('jacobian') as string, 'clusters'), { store, threads: 2, progress: new SilentProgress() });
    assert.equal(summary.failed, 0);
    assert.equal(summary.ran, 30, 'one grid over n, no label-noise axis');
    const f = clusterSpectrumFinding(reportInput(store, 'jacobian-clusters')) as ClusterSpectrumFinding;
    assert.equal(f.top, 18);
    assert.deepEqual(f.sizes, [50, 100, 200, 400, 800]);
    // Measured 0.503 ± 0.002 (seeds 0–5) and 0.506 ± 0.002 (100–105) against the paper's ½; the directions are asserted.
    assert.ok(atLeast3Se(f.faster) && f.faster.count === 6, `top − next slope ${formatMeanSe(f.faster)}`);
    assert.ok(atLeast3Se(f.gapOpens), `gap ${formatMeanSe(f.gapOpens)}`);
    await checkReport(store, 'jacobian-clusters', 1);
    store.close();
  });

  it('jacobian --profile deep-quick: on a ResNet-20 the labels’ norm ratio on the top singular vectors grows with training, more for clean labels (Tables 1–2)', async () => {
    const store = await runProfile('jacobian', 'deep-quick');
    const input = reportInput(store, 'jacobian-deep-quick');
    const f = normRatioFinding(input, 20);
    assert.deepEqual(f.rows.map((r) => [r.noise, r.growth.count]), [[0, 6], [0.5, 6]]);
    // The paper's directions, paired by seed, each at ≥ 3 SE over 6 seeds: the ratio grows with training at both
    // noise levels, and clean labels sit higher than 50 % flipped ones at init and at the end.
    for (const r of f.rows) assert.ok(atLeast3Se(r.growth), `${r.noise}: final − init ${formatMeanSe(r.growth)}`);
    const c = f.cleanOverNoisy as NonNullable<typeof f.cleanOverNoisy>;
    assert.ok(atLeast3Se(c.initial) && atLeast3Se(c.final), `clean − flipped ${formatMeanSe(c.initial)} at init, ${formatMeanSe(c.final)} at the end`);
    assert.equal(f.informationFirst.count, f.informationFirst.of, 'on the final spaces the information part is fitted first');
    // Under corruption the test error is lowest before the end: early stopping helps.
    const noisy = jacobianFinding(input).levels.find((l) => l.noise === 0.5) as NoiseLevelFinding;
    assert.ok(atLeast3Se(noisy.earlyStoppingGain), `final − best test error ${formatMeanSe(noisy.earlyStoppingGain)}`);
    await checkReport(store, 'jacobian-deep-quick');
    store.close();
  });

  it('overparam --profile deep-quick: eight concatenated narrow ResNet-8s have features a wide one does not span (Fig. 2)', async () => {
    const store = await runProfile('overparam', 'deep-quick');
    const input = reportInput(store, 'overparam-deep-quick');
    const points = spanFindings(input);
    assert.deepEqual(points.map((p) => [p.alpha, p.seeds]), [[0.5, 6], [0.125, 6]]);
    const narrowest = points[1];
    // The reverse gap at the smallest α, paired by seed, ≥ 3 SE over 6 seeds (also on seeds 100–105). FSG(1/8) is
    // not asserted: +0.008 ± 0.002 on these seeds but −0.008 ± 0.003 on seeds 100–105 (FEATURES.md).
    assert.ok(atLeast3Se(narrowest.narrowGap), `reverse gap ${formatMeanSe(narrowest.narrowGap)}`);
    assert.equal(narrowest.errors['trainError.wide'].mean, 0);
    assert.equal(narrowest.errors['testError.narrowEnsemble'].count, 6, 'the output ensemble is measured');
    await checkReport(store, 'overparam-deep-quick');
    store.close();
  });
});

describe('built-in experiments on MNIST', () => {

  it('jacobian --profile mnist: clean digit labels lie in the information space, the label noise at chance', async () => {
    const store = await runProfile('jacobian', 'mnist');
    const input = reportInput(store, 'jacobian-mnist');
    const f = jacobianFinding(input);
    // Not only at the chosen cut: at every rank of the sweep (1 % to 50 % of the directions), paired within each trial.
    const sweep = cutoffSweep(input);
    assert.equal(sweep?.rows.length, 6);
    for (const r of sweep?.rows ?? []) assert.ok(atLeast3Se(r.difference), `s = ${r.rank}: clean ${formatMeanSe(r.clean)} vs noise ${formatMeanSe(r.noise)}`);
    for (const l of f.levels.filter((x) => x.noise > 0)) {
      const noise = l.noiseEnergy as MeanSe;
      // Acceptance (issue 14): clean energy in I at least 3× the flipped-label noise energy at the same rank.
      assert.ok(l.cleanLabelEnergy.mean - 3 * l.cleanLabelEnergy.se >= 3 * (noise.mean + 3 * noise.se), `${l.noise}: ${formatMeanSe(l.cleanLabelEnergy)} vs ${formatMeanSe(noise)}`);
    }
    store.close();
  });

  it('jacobian --profile mnist10: one-hot labels of ten digits (n·K rows) lie in the information space, the noise does not', async () => {
    const store = await runProfile('jacobian', 'mnist10');
    const f = jacobianFinding(reportInput(store, 'jacobian-mnist10'));
    const clean = f.levels.find((l) => l.noise === 0) as NoiseLevelFinding;
    assert.ok(clean.rank.mean < 0.25 * (clean.rank.mean / clean.chance.mean), 'a low-rank space');
    for (const l of f.levels.filter((x) => x.noise > 0)) {
      const noise = l.noiseEnergy as MeanSe;
      assert.ok(l.cleanLabelEnergy.mean - 3 * l.cleanLabelEnergy.se >= 3 * (noise.mean + 3 * noise.se), `${l.noise}: ${formatMeanSe(l.cleanLabelEnergy)} vs ${formatMeanSe(noise)}`);
    }
    await checkReport(store, 'jacobian-mnist10');
    store.close();
  });

  it('mechanisms --profile mnist: with one learning rate and one number of steps, training aligns the layers of a deep ReLU net less from a larger init', async () => {
    // The profile's two ends (init 0.5 and 2) on 3 of its 4 seeds, to keep the test near 2 minutes.
    const experiment = loadExperimentFile(builtinPath('mechanisms') as string, 'mnist');
    const trials = experiment.trials.filter((t) => [0.5, 2].includes(t.point['model.initScale'] as number) && Number(t.point.seed) < 3);
    assert.equal(trials.length, 6);
    const store = Store.open(db);
    const summary = await runExperiment({ ...experiment, trials }, { store, threads: 2, progress: new SilentProgress() });
    assert.equal(summary.failed, 0);
    const { gainDrop } = deepNetAlignment(reportInput(store, 'mechanisms-mnist'));
    // Acceptance (issue 15): the gain in mean layer alignment at init 0.5 exceeds that at init 2 by ≥ 0.1, here at 3 SE over seeds.
    assert.deepEqual([gainDrop.from, gainDrop.to, gainDrop.count, gainDrop.above], [0.5, 2, 3, 3]);
    assert.ok(gainDrop.mean - 3 * gainDrop.se >= 0.1, `gain drop ${formatMeanSe(gainDrop)}`);
    await checkReport(store, 'mechanisms-mnist', 1);
    store.close();
  });
});
