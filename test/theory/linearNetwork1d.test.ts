import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';
import { finalAlignment, regimeOf, solveLinearNetwork1d, type LinearNetwork1dInit } from '../../src/theory/linearNetwork1d.js';
import type { Model } from '../../src/models/model.js';
import type { DataSplit } from '../../src/data/dataset.js';

/** The effective point (x, y) of 1D data and the network's u and h = Wx there (seed 002, Proposition 1). */
function effectiveState(model: Model, split: DataSplit) {
  const e = split.directions?.data as Float64Array;
  const d = e.length;
  const train = split.train;
  let a2 = 0;
  let ay = 0;
  for (let i = 0; i < train.inputs.rows; i++) {
    let a = 0;
    for (let c = 0; c < d; c++) a += e[c] * train.inputs.data[i * d + c];
    a2 += (a * a) / train.inputs.rows;
    ay += (a * train.targets[i]) / train.inputs.rows;
  }
  const x = Array.from(e, (v) => v * Math.sqrt(a2));
  const w = model.effectiveWeights(0, 0);
  const h = Array.from({ length: w.rows }, (_, j) => x.reduce((s, xc, c) => s + w.data[j * d + c] * xc, 0));
  const u = Array.from(model.effectiveWeights(0, 1).data, (v) => v * model.strengthKnobs(0).outputScale);
  return { x, y: ay / Math.sqrt(a2), u, h, xNorm: Math.sqrt(a2) };
}

function simulate(initScale: number, layerLearningRates: [number, number], slope: number, maxTime: number) {
  const spec = parseTrialSpec({
    seed: 5,
    model: { hiddenWidths: [50], activation: 'linear', initScale },
    data: { task: 'line1d', inputDim: 10, labels: 'value', n: 30, nTest: 0, slope },
    training: { loss: 'square', optimizer: 'gradientFlow', layerLearningRates, gradientFlow: { tolerance: 1e-10 }, stop: { maxSteps: 1e6, maxTime }, record: { pointsPerDecade: 8 } },
  });
  const samples: { time: number; output: number; alignment: number; ntk: number; uNorm: number; hNorm: number }[] = [];
  let init: LinearNetwork1dInit | null = null;
  const { model, split } = runEnsembleTrial(spec, [{}], {
    hooks: [
      ({ model: m, split: s, time }) => {
        const st = effectiveState(m, s);
        const [etaW, etaU] = layerLearningRates;
        if (!init) init = { u: st.u, h: st.h, xNorm: st.xNorm, y: st.y, etaU, etaW };
        const uu = st.u.reduce((a, v) => a + v * v, 0);
        const hh = st.h.reduce((a, v) => a + v * v, 0);
        const uh = st.u.reduce((a, v, j) => a + v * st.h[j], 0);
        samples.push({ time, output: uh, alignment: uh / Math.sqrt(uu * hh), ntk: etaU * hh + etaW * st.xNorm ** 2 * uu, uNorm: Math.sqrt(uu), hNorm: Math.sqrt(hh) });
        return {};
      },
    ],
  });
  return { samples, init: init as unknown as LinearNetwork1dInit, model, split };
}

describe('exact solution of the two-layer linear network on 1D data', () => {
  for (const [name, initScale, rates, slope] of [
    ['small init: learning by alignment', 0.05, [1, 1], 1],
    ['large init: kernel regime', 3, [1, 1], 1],
    ['unequal learning rates, negative target', 0.3, [0.1, 10], -1],
  ] as const)
    it(`${name}: the closed form equals the simulated gradient flow`, () => {
      const { samples, init } = simulate(initScale, [rates[0], rates[1]], slope, 20);
      const solution = solveLinearNetwork1d(init);
      assert.ok(samples.length > 10);
      for (const s of samples) {
        const p = solution.at(s.time);
        const tol = 1e-6 * Math.max(1, Math.abs(init.y));
        assert.ok(Math.abs(p.output - s.output) < tol, `f at t=${s.time}: ${p.output} vs ${s.output}`);
        assert.ok(Math.abs(p.alignment - s.alignment) < 1e-6, `ζ at t=${s.time}: ${p.alignment} vs ${s.alignment}`);
        assert.ok(Math.abs(p.ntk - s.ntk) < 1e-6 * s.ntk, `K at t=${s.time}`);
        assert.ok(Math.abs(p.uNorm - s.uNorm) < 1e-6 * Math.max(1, s.uNorm) && Math.abs(p.hNorm - s.hNorm) < 1e-6 * Math.max(1, s.hNorm));
      }
      const last = samples[samples.length - 1];
      assert.ok(Math.abs(solution.final.alignment - finalAlignment(init)) < 1e-9, 'ζ_∞ two ways');
      assert.ok(Math.abs(last.alignment - solution.final.alignment) < 1e-4, 'converged to ζ_∞');
    });

  it('the phase: small init learns features, large init stays in the kernel regime, and so do extreme learning-rate ratios', () => {
    const base = { u: [0.3, -0.1, 0.2], h: [0.1, 0.25, -0.2], xNorm: 1, y: 1 };
    const ratioAt = (scale: number, etaU: number, etaW: number) =>
      solveLinearNetwork1d({ ...base, u: base.u.map((v) => v * scale), h: base.h.map((v) => v * scale), etaU, etaW }).ntkRatio;
    assert.equal(regimeOf(ratioAt(0.1, 1, 1)), 'featureLearning');
    assert.ok(ratioAt(0.1, 1, 1) > 10);
    assert.equal(regimeOf(ratioAt(10, 1, 1)), 'kernel');
    assert.equal(regimeOf(ratioAt(1, 1e4, 1e-4)), 'kernel');
    assert.equal(regimeOf(ratioAt(1, 1e-4, 1e4)), 'kernel');
    assert.equal(regimeOf(ratioAt(1, 1, 1)), 'featureLearning');
  });

  it('balanced init (B = 0) with a target of the other sign runs into the origin: f → 0, as an RK4 integration of (u, h) shows', () => {
    // u₀ = h₀/‖x‖ with η_u = η_w: b₀ = ũ − h̃ = 0. With y < 0 the flow cannot turn u·h negative and decays to 0.
    const h = [0.6, -0.2, 0.3];
    const xNorm = 1.5;
    const init = { u: h.map((v) => v / xNorm), h, xNorm, y: -0.8, etaU: 1, etaW: 1 };
    const solution = solveLinearNetwork1d(init);
    assert.equal(solution.final.output, 0);
    assert.equal(solution.final.uNorm, 0);
    // du/dt = −η_u (f − y) h, dh/dt = −η_w ‖x‖² (f − y) u, f = u·h.
    let u = [...init.u];
    let hh = [...h];
    const derivative = (uu: number[], hv: number[]) => {
      const r = uu.reduce((a, v, i) => a + v * hv[i], 0) - init.y;
      return [uu.map((_, i) => -init.etaU * r * hv[i]), hv.map((_, i) => -init.etaW * xNorm * xNorm * r * uu[i])];
    };
    const dt = 1e-3;
    for (let step = 1; step <= 8000; step++) {
      const add = (a: number[], b: number[], k: number) => a.map((v, i) => v + k * b[i]);
      const [k1u, k1h] = derivative(u, hh);
      const [k2u, k2h] = derivative(add(u, k1u, dt / 2), add(hh, k1h, dt / 2));
      const [k3u, k3h] = derivative(add(u, k2u, dt / 2), add(hh, k2h, dt / 2));
      const [k4u, k4h] = derivative(add(u, k3u, dt), add(hh, k3h, dt));
      u = u.map((v, i) => v + (dt / 6) * (k1u[i] + 2 * k2u[i] + 2 * k3u[i] + k4u[i]));
      hh = hh.map((v, i) => v + (dt / 6) * (k1h[i] + 2 * k2h[i] + 2 * k3h[i] + k4h[i]));
      if (step % 1000 === 0) {
        const f = u.reduce((a, v, i) => a + v * hh[i], 0);
        const p = solution.at(step * dt);
        assert.ok(Math.abs(p.output - f) < 1e-9, `t = ${step * dt}: ${p.output} vs ${f}`);
      }
    }
    assert.ok(Math.abs(solution.at(8).output) < 1e-3 && solution.at(8).output > 0, 'f decays to 0 from above, never reaching y < 0');
  });
});
