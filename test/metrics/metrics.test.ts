import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { Rng } from '../../src/linalg/rng.js';
import { orthogonalMatrix } from '../../src/linalg/samplers.js';
import { directionClusters, effectiveRank, layerAlignment, meanAbsPairCosine, relativeDistance, signedDirectionMass, stableRank } from '../../src/metrics/alignment.js';
import { cka, concatFeatures, featureResiduals, featureSpanError, featureSpanFit, logisticProbeAccuracy, probeFit, ridgeProbeAccuracy } from '../../src/metrics/features.js';
import { margins, quantile } from '../../src/metrics/generalization.js';
import { cumulativeEnergy, energyFraction, informationRank, informationSpace, jacobianSpectrum, orthogonalComponent, splitNorms } from '../../src/metrics/jacobian.js';
import { kernelDistance, kernelTargetAlignment, empiricalNtk } from '../../src/metrics/kernel.js';
import { alignmentField, angleToNearest, extremalVectors } from '../../src/metrics/extremal.js';
import { angleDegrees, mixtureAngles } from '../../src/metrics/mixture.js';
import type { Dense } from '../../src/metrics/matrixOps.js';
import { MetricError } from '../../src/metrics/metric.js';
import { expectAllClose, randomArray } from '../helpers.js';
import * as brute from './bruteForce.js';
import { inputs, member, newModel, smallConfig } from '../models/fixtures.js';

const backend = new TsBackend();

function random(rows: number, cols: number, seed: number, scale = 1): Dense {
  return { rows, cols, data: randomArray(rows * cols, seed, scale) };
}

function times(a: Dense, b: Dense): Dense {
  return brute.matmul(a, b);
}

describe('feature span error and residuals', () => {
  for (const [n, p, q] of [
    [40, 6, 3],
    [8, 15, 4],
  ])
    it(`matches the normal-equations twin (${n} samples, ${p} → ${q} features)`, () => {
      const [aTrain, bTrain, aTest, bTest] = [random(n, p, 1), random(n, q, 2), random(20, p, 3), random(20, q, 4)];
      const fast = featureSpanError(backend, aTrain, bTrain, aTest, bTest, 0.5);
      assert.ok(Math.abs(fast - brute.featureSpanError(aTrain, bTrain, aTest, bTest, 0.5)) < 1e-10);
      assert.ok(fast > 0.3, 'unrelated random features are not spanned');
      const centered = featureSpanError(backend, aTrain, bTrain, aTest, bTest, { lambda: 0.5, centered: true });
      assert.ok(Math.abs(centered - brute.featureSpanError(aTrain, bTrain, aTest, bTest, 0.5, true)) < 1e-10);
    });

  it('centered FSE ignores constant offsets; uncentered FSE is fooled by them', () => {
    const a = random(80, 4, 41);
    const b = times(a, random(4, 3, 42));
    const shift = (m: Dense, c: number) => ({ ...m, data: m.data.map((v) => v + c) });
    const noisyB = { ...b, data: b.data.map((v, i) => v + 0.3 * randomArray(b.data.length, 43)[i]) };
    const options = { lambda: 1e-6, centered: true };
    const plain = featureSpanError(backend, a, noisyB, a, noisyB, options);
    assert.ok(Math.abs(featureSpanError(backend, shift(a, 5), shift(noisyB, 7), shift(a, 5), shift(noisyB, 7), options) - plain) < 1e-9);
    // Without an intercept the offset (which A cannot produce) counts as unspanned.
    const uncentered = featureSpanError(backend, a, shift(noisyB, 7), a, shift(noisyB, 7), 1e-6);
    assert.ok(uncentered > plain + 0.3, `${uncentered} vs ${plain}`);
  });

  it('a λ grid is searched on the validation rows: noise-only targets pick the largest λ, exact targets a small one', () => {
    const a = random(200, 30, 44);
    const exact = times(a, random(30, 2, 45));
    const noise = random(200, 2, 46);
    const grid = [1e-6, 1e-3, 1, 100];
    const spanned = featureSpanFit(backend, a, exact, a, exact, { lambda: grid, centered: true });
    assert.ok(spanned.lambda <= 1e-3 && spanned.error < 1e-3, JSON.stringify(spanned));
    assert.equal(featureSpanFit(backend, a, noise, a, noise, { lambda: grid, centered: true }).lambda, 100);
  });

  it('a set onto itself, or onto a superset, is ≈ 0; a set does not span a richer one', () => {
    const a = random(60, 5, 5);
    const c = random(60, 4, 6);
    const superset = concatFeatures([a, c]);
    assert.ok(featureSpanError(backend, a, a, a, a, 1e-8) < 1e-12);
    assert.ok(featureSpanError(backend, superset, a, superset, a, 1e-8) < 1e-12);
    assert.ok(featureSpanError(backend, a, superset, a, superset, 1e-8) > 0.2);
  });

  it('residuals are B minus its ridge fit, orthogonal to A at λ → 0', () => {
    const a = random(50, 4, 7);
    const b = random(50, 3, 8);
    const r = featureResiduals(backend, a, b, a, b, 1e-10);
    const cross = times(brute.transposed(a), r);
    expectAllClose(cross.data, new Float64Array(12), { atol: 1e-8 });
  });

  it('concatenation puts the sets side by side', () => {
    const c = concatFeatures([{ rows: 2, cols: 1, data: Float64Array.of(1, 2) }, { rows: 2, cols: 2, data: Float64Array.of(3, 4, 5, 6) }]);
    assert.deepEqual(Array.from(c.data), [1, 3, 4, 2, 5, 6]);
    assert.throws(() => concatFeatures([random(2, 1, 1), random(3, 1, 1)]), MetricError);
  });

  it('zero target features give a clear error, not NaN', () => {
    const z = { rows: 10, cols: 2, data: new Float64Array(20) };
    assert.throws(() => featureSpanError(backend, random(10, 3, 1), z, random(10, 3, 2), z, 1), /target features are all zero \(or constant\)/);
  });
});

describe('CKA', () => {
  const x = random(30, 6, 11);
  const y = times(x, random(6, 4, 12));
  for (const debiased of [false, true])
    it(`linear${debiased ? ', debiased,' : ''} matches the explicit-centering twin`, () => {
      for (const other of [y, random(30, 5, 13)]) assert.ok(Math.abs(cka(backend, x, other, { kernel: 'linear', debiased }) - brute.cka(x, other, debiased)) < 1e-10);
    });

  for (const options of [{ kernel: 'linear' as const }, { kernel: 'linear' as const, debiased: true }, { kernel: 'rbf' as const }, { kernel: 'rbf' as const, debiased: true, bandwidth: 0.5 }])
    it(`${JSON.stringify(options)}: CKA(X, X) = 1 and invariant to rotations and isotropic scaling`, () => {
      assert.ok(Math.abs(cka(backend, x, x, options) - 1) < 1e-12);
      const q: Dense = { ...orthogonalMatrix(Rng.fromSeed(3), 6, 6), data: Float64Array.from(orthogonalMatrix(Rng.fromSeed(3), 6, 6).data) };
      const rotated = times(x, q);
      const scaled = { ...rotated, data: rotated.data.map((v) => 3.7 * v) };
      const base = cka(backend, x, y, options);
      assert.ok(Math.abs(cka(backend, scaled, y, options) - base) < 1e-10);
      assert.ok(base > 0 && base < 1);
    });

  it('constant features and too few samples get clear errors', () => {
    const constant = { rows: 30, cols: 3, data: new Float64Array(90).fill(2) };
    assert.throws(() => cka(backend, constant, x), /no variance/);
    assert.throws(() => cka(backend, random(3, 2, 1), random(3, 2, 2), { kernel: 'linear', debiased: true }), /at least 4 samples/);
    assert.throws(() => cka(backend, constant, x, { kernel: 'rbf' }), /median pairwise distance is zero/);
  });
});

describe('linear probes', () => {
  it('separate linearly separable features perfectly; the two probes agree', () => {
    const train = random(200, 5, 21);
    const test = random(100, 5, 22);
    const w = [1, -2, 0.5, 0, 1];
    const label = (f: Dense) => Float64Array.from({ length: f.rows }, (_, i) => (w.reduce((s, wi, c) => s + wi * f.data[i * 5 + c], 0.3) > 0 ? 1 : -1));
    assert.ok(ridgeProbeAccuracy(backend, train, label(train), test, label(test), 2, 1e-6) > 0.95);
    assert.ok(logisticProbeAccuracy(backend, train, label(train), test, label(test), 2, 1e-6, 2000) > 0.95);
    const shuffled = label(train).reverse();
    assert.ok(ridgeProbeAccuracy(backend, train, shuffled, test, label(test), 2, 1e-3) < 0.8);
  });

  it('a penalty grid is validated by the probe\'s own loss: signal picks a small penalty, shuffled labels the largest', () => {
    const train = random(300, 8, 25);
    const test = random(200, 8, 26);
    const label = (f: Dense) => Float64Array.from({ length: f.rows }, (_, i) => (f.data[i * 8] - f.data[i * 8 + 1] > 0 ? 1 : -1));
    const grid = [1e-4, 1e-2, 1, 100];
    for (const kind of ['logistic', 'ridge'] as const) {
      const fit = probeFit(backend, train, label(train), test, label(test), 2, { kind, penalty: grid });
      assert.ok(fit.accuracy > 0.9 && fit.penalty <= 1, `${kind}: ${JSON.stringify(fit)}`);
      const shuffled = Float64Array.from(randomArray(300, 27), (v) => (v > 0 ? 1 : -1));
      assert.equal(probeFit(backend, train, shuffled, test, label(test), 2, { kind, penalty: grid }).penalty, 100, kind);
    }
  });

  it('handle several classes by one-hot targets', () => {
    const train = random(300, 4, 23);
    const test = random(100, 4, 24);
    const cls = (f: Dense) => Float64Array.from({ length: f.rows }, (_, i) => [0, 1, 2].reduce((best, c) => (f.data[i * 4 + c] > f.data[i * 4 + best] ? c : best), 0));
    assert.ok(ridgeProbeAccuracy(backend, train, cls(train), test, cls(test), 3, 1e-6) > 0.75);
    assert.ok(logisticProbeAccuracy(backend, train, cls(train), test, cls(test), 3, 1e-6, 2000) > 0.85);
  });
});

describe('alignment measures', () => {
  it('mixtureAngles: neurons planted on the class means of their sign read 0° to the means and the means’ own angle to ±s; random neurons read ≈ 90°', () => {
    const rng = Rng.fromSeed(3);
    const d = 200;
    const s = Float64Array.from({ length: d }, (_, i) => (i === 0 ? 1 : 0));
    const plus = Float64Array.from({ length: d }, (_, i) => (i === 0 ? 2 : 0.3 * rng.gaussian()));
    const minus = Float64Array.from({ length: d }, (_, i) => (i === 0 ? -2 : 0.3 * rng.gaussian()));
    const m = 40;
    // Equal masses on each side; Σ_{a>0} a_j c_j = −Σ_{a<0} a_j c_j, so β_f ∝ x̄₊ − x̄₋.
    const a = Float64Array.from({ length: m }, (_, j) => (j % 2 === 0 ? 1 : -1));
    const planted: Dense = { rows: m, cols: d, data: Float64Array.from({ length: m * d }, (_, i) => (Math.floor(i / d) % 2 === 0 ? plus : minus)[i % d]) };
    const onMeans = mixtureAngles(planted, a, plus, minus, s);
    assert.ok((onMeans.angleToMean as number) < 1e-5 && onMeans.predictorToMean < 1e-5, JSON.stringify(onMeans));
    const [toPlus, toMinus] = [angleDegrees(plus, s), angleDegrees(minus, s.map((v) => -v))];
    const meanToBayes = (toPlus + toMinus) / 2;
    // Each side weighted by its mass |a_j|·‖w_j‖ = ‖x̄±‖.
    const [massPlus, massMinus] = [Math.hypot(...plus), Math.hypot(...minus)];
    const weighted = (massPlus * toPlus + massMinus * toMinus) / (massPlus + massMinus);
    assert.ok(Math.abs(onMeans.meanToBayes - meanToBayes) < 1e-12 && Math.abs((onMeans.angleToBayes as number) - weighted) < 1e-9, JSON.stringify(onMeans));
    assert.ok(meanToBayes > 45 && meanToBayes < 80, `the means sit ${meanToBayes}° from ±s`);
    const random: Dense = { rows: m, cols: d, data: Float64Array.from({ length: m * d }, () => rng.gaussian()) };
    const angles = mixtureAngles(random, a, plus, minus, s);
    // A random direction in d = 200 dimensions sits 90° ± 57.3°/√d ≈ ±4° from any fixed one.
    assert.ok(Math.abs((angles.angleToMean as number) - 90) < 4 * (57.3 / Math.sqrt(d) / Math.sqrt(m)) + 1, `random: ${angles.angleToMean}`);
  });

  it('signedDirectionMass: 1 on neurons planted at sign(a_j)·v, 0 at −sign(a_j)·v, and its sphere-cap chance against random directions', () => {
    const rng = Rng.fromSeed(12);
    const d = 5;
    const v = [0.3, -1, 0.5, 2, 0.1];
    const m = 20000;
    const a = Float64Array.from({ length: m }, () => rng.gaussian());
    const planted = (sign: number): Dense => ({ rows: m, cols: d, data: Float64Array.from({ length: m * d }, (_, i) => sign * Math.sign(a[Math.floor(i / d)]) * (1 + (Math.floor(i / d) % 3)) * v[i % d]) });
    assert.equal(signedDirectionMass(planted(1), a, v, 10).mass, 1);
    assert.equal(signedDirectionMass(planted(-1), a, v, 10).mass, 0);
    // Random Gaussian rows: the share of neurons (unit masses) within 30° of sign(a_j)·v is the cap's area.
    const random: Dense = { rows: m, cols: d, data: Float64Array.from({ length: m * d }, () => rng.gaussian()) };
    const unitMass = Float64Array.from({ length: m }, (_, j) => Math.sign(a[j]) / Math.hypot(...random.data.subarray(j * d, (j + 1) * d)));
    const { mass, chance } = signedDirectionMass(random, unitMass, v, 30);
    const se = Math.sqrt((chance * (1 - chance)) / m);
    assert.ok(Math.abs((mass as number) - chance) < 4 * se, `share ${mass} vs cap ${chance} ± ${se}`);
    // d = 3: the cap of half-angle θ holds (1 − cos θ)/2 of the sphere.
    const three: Dense = { rows: 1, cols: 3, data: Float64Array.from([1, 0, 0]) };
    assert.ok(Math.abs(signedDirectionMass(three, [1], [1, 0, 0], 40).chance - (1 - Math.cos((40 * Math.PI) / 180)) / 2) < 1e-14);
  });

  it('layer alignment matches its twin, and is 1 when every input lies along the top singular direction', () => {
    const w = random(4, 6, 31);
    const h = random(10, 6, 32);
    assert.ok(Math.abs(layerAlignment(backend, w, h) - brute.layerAlignment(w, h)) < 1e-10);
    const u = randomArray(6, 33);
    const rankOne: Dense = { rows: 3, cols: 6, data: Float64Array.from({ length: 18 }, (_, i) => [1, -2, 0.5][Math.floor(i / 6)] * u[i % 6]) };
    const along: Dense = { rows: 4, cols: 6, data: Float64Array.from({ length: 24 }, (_, i) => [2, -1, 0.3, 5][Math.floor(i / 6)] * u[i % 6]) };
    assert.ok(Math.abs(layerAlignment(backend, rankOne, along) - 1) < 1e-12);
  });

  it('stable and effective rank match singular values from a Jacobi twin', () => {
    const w = random(7, 5, 34);
    const s = brute.singularValues(w);
    assert.ok(Math.abs(stableRank(backend, w) - s.reduce((a, v) => a + v * v, 0) / s[0] ** 2) < 1e-10);
    const total = s.reduce((a, v) => a + v, 0);
    const expected = Math.exp(-s.reduce((a, v) => a + (v / total) * Math.log(v / total), 0));
    assert.ok(Math.abs(effectiveRank(s) - expected) < 1e-12);
    assert.ok(Math.abs(effectiveRank([2, 2, 2, 0]) - 3) < 1e-12);
    assert.throws(() => effectiveRank([0, 0]), MetricError);
  });

  it('recovers the number of directions of a planted configuration', () => {
    const rng = Rng.fromSeed(35);
    const planted = orthogonalMatrix(rng, 3, 8).data;
    const rows: number[] = [];
    const weights: number[] = [];
    for (let j = 0; j < 60; j++) {
      const t = j % 3;
      for (let c = 0; c < 8; c++) rows.push(planted[t * 8 + c] + 0.01 * rng.gaussian());
      weights.push(0.5 + rng.uniform());
    }
    // Tiny neurons pointing anywhere do not count as directions.
    for (let j = 0; j < 10; j++) {
      for (let c = 0; c < 8; c++) rows.push(rng.gaussian());
      weights.push(1e-4);
    }
    const w = { rows: 70, cols: 8, data: Float64Array.from(rows) };
    const clusters = directionClusters(w, weights, 10, 0.01);
    assert.equal(clusters.distinct, 3);
    assert.ok(clusters.top2Mass > clusters.topMass && clusters.top2Mass < 0.75);
    assert.equal(directionClusters(w, weights, 10, 0).distinct, 3 + 10);
    assert.ok(meanAbsPairCosine({ rows: 2, cols: 2, data: Float64Array.of(1, 0, -3, 0) }) === 1);
  });

  it('relative distance from init', () => {
    assert.equal(relativeDistance([3, 4], [0, 5]), Math.sqrt(10) / 5);
    assert.throws(() => relativeDistance([1], [0]), MetricError);
  });
});

describe('kernel and Jacobian', () => {
  it('the empirical NTK equals ⟨∇f(x_i), ∇f(x_j)⟩ from per-sample gradients of the training kernel', () => {
    const model = newModel(smallConfig({ hiddenWidths: [6, 4], activation: 'tanh', bias: true }), [member(2, { outputScale: 0.7 })]);
    const x = inputs(5, 3, 9);
    const kernel = empiricalNtk(model, 0, x);
    // ∇f(x_i) from the loss kernel: the square loss with target f − 1 has gradient ∂f/∂θ.
    const grads = Array.from({ length: 5 }, (_, i) => {
      const xi = { rows: 1, cols: 3, data: x.data.slice(i * 3, i * 3 + 3) };
      const f = model.forward(xi)[0];
      const g = model.allocateGradients();
      model.lossGradient(xi, Float64Array.of(f - 1), 'square', new Float64Array(1), new Float64Array(1), g);
      return model.gradientVector(0, g);
    });
    const expected = new Float64Array(25);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expected[i * 5 + j] = grads[i].reduce((s, v, p) => s + v * grads[j][p], 0);
    expectAllClose(kernel, expected, { rtol: 1e-10, atol: 1e-12 });
  });

  it('kernel–target alignment and kernel distance by their definitions', () => {
    const k = Float64Array.of(2, 1, 1, 3);
    assert.ok(Math.abs(kernelTargetAlignment(k, [1, -1]) - 3 / (Math.sqrt(15) * 2)) < 1e-15);
    assert.ok(Math.abs(kernelDistance(k, k.map((v) => 5 * v))) < 1e-15);
    assert.ok(Math.abs(kernelDistance(Float64Array.of(1, 0, 0, 0), Float64Array.of(0, 0, 0, 1)) - 1) < 1e-15);
  });

  it('the information/nuisance split matches projections on Jacobi eigenvectors, and the two add up', () => {
    const j = random(8, 20, 41);
    const spectrum = jacobianSpectrum(backend, j);
    const twin = brute.jacobiEigen(times(j, brute.transposed(j)));
    expectAllClose(spectrum.singularValues, twin.values.map((v) => Math.sqrt(Math.max(v, 0))), { rtol: 1e-10 });
    const y = randomArray(8, 42);
    const rank = informationRank(spectrum, { rule: 'relative', relative: 0.5 });
    assert.ok(rank >= 1 && rank < 8);
    let inside = 0;
    for (let s = 0; s < rank; s++) {
      let c = 0;
      for (let r = 0; r < 8; r++) c += twin.vectors.data[r * 8 + s] * y[r];
      inside += c * c;
    }
    const total = y.reduce((a, v) => a + v * v, 0);
    assert.ok(Math.abs(energyFraction(spectrum, y, rank) - inside / total) < 1e-10);
    assert.ok(Math.abs(energyFraction(spectrum, y, 8) - 1) < 1e-10, 'the whole space holds all the energy');
    assert.equal(informationRank(spectrum, { rule: 'absolute', absolute: spectrum.singularValues[2] }), 3);
    const norms = splitNorms(spectrum, y, rank);
    assert.ok(Math.abs(norms.information ** 2 - inside) < 1e-10 && Math.abs(norms.information ** 2 + norms.nuisance ** 2 - total) < 1e-10);
    const energy = cumulativeEnergy(spectrum, y);
    for (let s = 1; s < 8; s++) assert.ok(energy[s] >= energy[s - 1] - 1e-15, 'E(s) is non-decreasing');
  });

  it('the gap rule picks the rank of a planted spectral gap, and ignores the near-zero tail', () => {
    // J = U diag(λ) Vᵀ with a planted drop after the 4th value and a tiny tail (ratios there are large but noise).
    const rows = 12;
    const lambda = [10, 8, 7, 6, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 1e-9, 1e-12];
    const u = orthogonalMatrix(Rng.fromSeed(7), rows, rows).data;
    const v = orthogonalMatrix(Rng.fromSeed(8), 30, 30).data;
    const j = { rows, cols: 30, data: new Float64Array(rows * 30) };
    for (let r = 0; r < rows; r++) for (let c = 0; c < 30; c++) for (let s = 0; s < rows; s++) j.data[r * 30 + c] += u[r * rows + s] * lambda[s] * v[c * 30 + s];
    const spectrum = jacobianSpectrum(backend, j);
    const space = informationSpace(spectrum, { rule: 'gap' });
    assert.equal(space.rank, 4);
    assert.ok(Math.abs(space.cutoff - 6) < 1e-8 && Math.abs(space.gapRatio - 6 / 0.9) < 1e-6, JSON.stringify(space));
    // Through the Gram matrix the tail's values are rounding noise (λ² ≈ 1e-18 against 100): a search there picks one of them.
    assert.ok(informationSpace(spectrum, { rule: 'gap', maxRank: 11 }).rank >= 10, 'searching the tail finds its (meaningless) gap');
    assert.equal(informationSpace(spectrum, { rule: 'gap', maxRank: 3 }).rank, 1);
  });

  it('the label noise orthogonalized against the clean labels has chance energy rank/n in any subspace', () => {
    // Noise of flipped ±1 labels, −2·y_clean on a random 20% of points: raw, it carries y_clean's structure;
    // orthogonalized, its mean energy in a fixed subspace where y_clean is concentrated is rank/n.
    const n = 100;
    const rank = 10;
    const spectrum = jacobianSpectrum(backend, random(n, 300, 3));
    const clean = Float64Array.from({ length: n }, (_, i) => (spectrum.leftVectors.subarray(i * n, i * n + rank).reduce((a, b) => a + b, 0) > 0 ? 1 : -1));
    let raw = 0;
    let orthogonal = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const flipped = randomArray(n, 1000 + t).map((v) => (v < -0.84 ? 1 : 0));
      const noise = Float64Array.from(clean, (c, i) => (flipped[i] ? -2 * c : 0));
      if (!noise.some((v) => v !== 0)) continue;
      raw += energyFraction(spectrum, noise, rank) / trials;
      orthogonal += energyFraction(spectrum, orthogonalComponent(noise, clean), rank) / trials;
    }
    const cleanEnergy = energyFraction(spectrum, clean, rank);
    assert.ok(cleanEnergy > 0.3, `the clean labels are concentrated: ${cleanEnergy}`);
    assert.ok(raw > 1.5 * (rank / n), `raw noise carries the clean labels' structure: ${raw}`);
    assert.ok(Math.abs(orthogonal - rank / n) < 0.02, `orthogonalized noise at chance: ${orthogonal} vs ${rank / n}`);
  });
});

describe('label noise of one-hot rows', () => {
  it('has a mean along the all-ones vector; removing span{y_clean, 1} leaves chance energy in a subspace holding the class means', () => {
    // A fixed subspace I of rank 12 in R^{n·K} that holds the K class-mean directions 1_n ⊗ e_c (as a ReLU
    // net's top Jacobian directions do) and 9 random directions; flips send a row to one of the other classes.
    const [n, k, rank] = [60, 3, 12];
    const rng = Rng.fromSeed(11);
    const raw = [...Array.from({ length: k }, (_, c) => Float64Array.from({ length: n * k }, (_, r) => (r % k === c ? 1 : 0))), ...Array.from({ length: rank - k }, () => Float64Array.from({ length: n * k }, () => rng.gaussian()))];
    const basis = raw.map((v, i) => orthogonalComponent(v, ...raw.slice(0, i))).map((v) => v.map((x) => x / Math.hypot(...v)));
    const energyIn = (v: Float64Array) => basis.reduce((a, u) => a + u.reduce((d, x, i) => d + x * v[i], 0) ** 2, 0);
    const labels = Array.from({ length: n }, (_, i) => i % k);
    const clean = new Float64Array(n * k);
    labels.forEach((c, i) => (clean[i * k + c] = 1));
    const ones = new Float64Array(n * k).fill(1);
    let [inOld, totalOld, inNew, totalNew] = [0, 0, 0, 0];
    for (let t = 0; t < 400; t++) {
      const noise = new Float64Array(n * k);
      labels.forEach((c, i) => {
        if (rng.uniform() >= 0.5) return;
        const other = (c + 1 + Math.floor(rng.uniform() * (k - 1))) % k;
        noise[i * k + c] = -1;
        noise[i * k + other] = 1;
      });
      const onlyClean = orthogonalComponent(noise, clean);
      const both = orthogonalComponent(noise, clean, ones);
      [inOld, totalOld] = [inOld + energyIn(onlyClean), totalOld + onlyClean.reduce((a, x) => a + x * x, 0)];
      [inNew, totalNew] = [inNew + energyIn(both), totalNew + both.reduce((a, x) => a + x * x, 0)];
    }
    const chance = rank / (n * k);
    // Expected without the fix: about chance + (1 − chance)·p²n/(K−1) / (2pn − p²n) ≈ 0.067 + 0.93·0.167 ≈ 0.22.
    assert.ok(inOld / totalOld > 2 * chance, `against y_clean only: ${inOld / totalOld} vs chance ${chance}`);
    assert.ok(Math.abs(inNew / totalNew - chance) < 0.01, `against y_clean and 1: ${inNew / totalNew} vs chance ${chance}`);
    const stillZero = orthogonalComponent(Float64Array.of(1, 2, 3), Float64Array.of(1, 0, 0), Float64Array.of(2, 0, 0));
    assert.deepEqual(Array.from(stillZero), [0, 2, 3], 'a dependent vector adds nothing to the span');
  });
});

describe('margins', () => {
  it('binary and multi-class margins, and quantiles', () => {
    const binary = { inputs: { rows: 3, cols: 1, data: new Float64Array(3) }, targets: Float64Array.of(1, -1, 1), targetDim: 1, kind: 'binary' as const, classes: 2 };
    assert.deepEqual(Array.from(margins(binary, Float64Array.of(2, 0.5, -1), 1)), [2, -0.5, -1]);
    const classes = { ...binary, targets: Float64Array.of(0, 2, 1), kind: 'classes' as const, classes: 3 };
    assert.deepEqual(Array.from(margins(classes, Float64Array.of(3, 1, 0, 0, 1, 4, 2, 2, 1), 3)), [2, 3, 0]);
    assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
    assert.equal(quantile([4, 1, 3, 2], 0), 1);
  });
});

describe('extremal vectors of early alignment', () => {
  it('for a linear teacher on Gaussian inputs they are ±β̂ (D(w) ≈ β/2 everywhere), and each satisfies D(w) ∥ w', () => {
    const n = 4000;
    const d = 5;
    const rng = Rng.fromSeed(9).child('extremal-test');
    const inputs: Dense = { rows: n, cols: d, data: Float64Array.from({ length: n * d }, () => rng.gaussian()) };
    const beta = Float64Array.of(1, -2, 0.5, 0, 1);
    const targets = Float64Array.from({ length: n }, (_, k) => beta.reduce((s, b, c) => s + b * inputs.data[k * d + c], 0));
    const found = extremalVectors(inputs, targets, { starts: 64 });
    assert.ok(found.positive.length >= 1 && found.negative.length >= 1);
    const unit = beta.map((b) => b / Math.hypot(...beta));
    for (const v of found.positive) assert.ok(angleToNearest(v, [unit]) < 5, `positive ${angleToNearest(v, [unit])}°`);
    for (const v of found.negative) assert.ok(angleToNearest(v, [unit.map((x) => -x)]) < 5, `negative ${angleToNearest(v, [unit.map((x) => -x)])}°`);
    for (const v of [...found.positive, ...found.negative]) {
      const field = alignmentField(inputs, targets, v);
      const cos = field.reduce((s, f, c) => s + f * v[c], 0) / Math.hypot(...field);
      assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-12, 'D(w) is parallel to w');
    }
  });
});
