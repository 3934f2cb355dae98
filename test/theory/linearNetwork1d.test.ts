import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runEnsembleTrial } from '../../src/experiments/trial.js';
import { finalAlignment, regimeOf, solveLinearNetwork1d, type LinearNetwork1dInit } from '../../src/theory/linearNetwork1d.js';
import type { MlpEnsemble } from '../../src/models/mlp.js';
import type { DataSplit } from '../../src/data/dataset.js';

/** The effective point (x, y) of 1D data and the network's u and h = Wx there (seed 002, Proposition 1). */
function effectiveState(model: MlpEnsemble, split: DataSplit) {
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
  const u = Array.from(model.effectiveWeights(0, 1).data, (v) => v * model.members[0].outputScale);
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
});
