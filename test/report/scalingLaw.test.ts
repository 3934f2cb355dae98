import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/linalg/rng.js';
import { fitPowerLaw, scalingFinding } from '../../src/papers/fls/scalingLaw.js';

describe('the optimal-c scaling law c* ∝ n^a h^b', () => {
  const ns = [250, 500, 1000, 2000];
  const hs = [0.25, 0.5, 1];
  const planted = (rng: Rng, sd: number) =>
    ns.flatMap((n) => hs.flatMap((h) => Array.from({ length: 4 }, () => ({ y: 3 - 2 * Math.log10(n) - Math.log10(h) + sd * rng.gaussian(), u: Math.log10(n), v: Math.log10(h) }))));

  it('least squares recovers planted exponents, and its 95 % t intervals cover them about 95 % of the time', () => {
    const rng = Rng.fromSeed(5);
    let coveredA = 0;
    let coveredB = 0;
    const repeats = 2000;
    for (let r = 0; r < repeats; r++) {
      const fit = fitPowerLaw(planted(rng, 0.3));
      assert.ok(fit && fit.dof === 45);
      if (fit.a.low <= -2 && -2 <= fit.a.high) coveredA++;
      if (fit.b.low <= -1 && -1 <= fit.b.high) coveredB++;
    }
    // Binomial(2000, 0.95) has SD 0.0049: 0.935–0.965 is ±3 SD.
    for (const covered of [coveredA, coveredB]) assert.ok(covered / repeats > 0.935 && covered / repeats < 0.965, `coverage ${covered / repeats}`);
    const exact = fitPowerLaw(planted(rng, 0));
    assert.ok(exact && Math.abs(exact.a.value + 2) < 1e-9 && Math.abs(exact.b.value + 1) < 1e-9 && Math.abs(exact.intercept.value - 3) < 1e-9 && exact.a.se < 1e-9);
  });

  it('refuses a design without two distinct n or h, or without a degree of freedom', () => {
    assert.equal(fitPowerLaw(ns.map((n) => ({ y: Math.log10(n), u: Math.log10(n), v: 0 }))), null);
    assert.equal(fitPowerLaw([{ y: 0, u: 0, v: 0 }, { y: 1, u: 1, v: 0 }, { y: 2, u: 0, v: 1 }]), null);
  });

  it("reads each seed's optimal c among its fitted runs, and leaves optima at an end of the c grid out of the fit", () => {
    const row = (n: number, h: number, c: number, seed: number, best: number, stop = 'targetAccuracy') => ({ part: 'scaling', status: 'completed', stop_reason: stop, 'data.n': n, 'model.widthMultiplier': h, 'model.outputScale': c, seed, 'best.testError': best });
    const cs = [0.01, 0.1, 1, 10];
    const rows = [];
    for (const n of [100, 1000])
      for (const h of [0.5, 1])
        for (const seed of [0, 1]) {
          // Planted optimum c* = 10 / (n·h) · 10^(seed/4) between grid points; error grows with |log c − log c*|.
          const star = Math.log10(10 / (n * h)) + seed / 4;
          for (const c of cs) rows.push(row(n, h, c, seed, 0.1 + Math.abs(Math.log10(c) - star)));
        }
    // A run that did not fit is not read even though its error is least.
    rows.push(row(1000, 1, 0.1, 2, 0.0, 'maxEpochs'), row(1000, 1, 1, 2, 0.2), row(1000, 1, 10, 2, 0.3));
    const f = scalingFinding(rows);
    const at = (n: number, h: number, seed: number) => f.optima.find((o) => o.n === n && o.h === h && o.seed === seed);
    assert.equal(at(100, 0.5, 0)?.c, 0.1);
    assert.equal(at(1000, 1, 0)?.c, 0.01);
    assert.equal(at(1000, 1, 0)?.atEdge, 'smallest');
    assert.equal(at(1000, 1, 2)?.c, 1, 'the unfitted run is skipped');
    assert.equal(at(1000, 1, 2)?.atEdge, 'smallest', 'an end of the c values the seed fitted, though not of the grid');
    assert.equal(f.unfitted, 1);
    assert.equal(f.censored, f.optima.filter((o) => o.atEdge !== null).length);
    assert.ok(f.censored >= 1);
  });
});
