/**
 * featlab's benchmark (`npm run bench`): each workload run by featlab (native and ts backends) and by
 * its peers (NumPy with hand-written gradients, PyTorch) on the same data in the same command;
 * medians of repeats, ratios, and the final numbers that must agree. Writes bench/RESULTS.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/linalg/backend.js';
import { createBackend } from '../src/linalg/index.js';
import { TsBackend } from '../src/linalg/tsBackend.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { convert, type FloatArray, type Matrix } from '../src/linalg/matrix.js';
import { familyOf } from '../src/models/families.js';
import type { MemberConfig, Model } from '../src/models/model.js';
import { trainEnsemble, type TrainingConfig } from '../src/train/trainer.js';
import { gradientDescentUpdate } from '../src/train/optimizers.js';
import { lossAndGradient } from '../src/linalg/elementwise.js';
import { parseTrialSpec } from '../src/experiments/trialSpec.js';
import { parseExperiment } from '../src/experiments/experimentSpec.js';
import { buildData, buildModel, memberOverrideOf } from '../src/experiments/trial.js';
import type { DataSplit } from '../src/data/dataset.js';
import { Rng } from '../src/linalg/rng.js';

type DType = 'float64' | 'float32';
interface Measure {
  readonly seconds: number[];
  readonly value: number;
  /** A peer's BLAS and the kernels it chose. */
  readonly blas?: string;
}

const quick = process.argv.includes('--quick');
/** `--only W6` (or a list, W1,W6) runs those workloads alone and writes them as a section of their own. */
const onlyArgument = process.argv.indexOf('--only');
const only = onlyArgument >= 0 ? new Set((process.argv[onlyArgument + 1] ?? '').split(',')) : null;
const selected = (workload: string) => only === null || only.has(workload);
const REPEATS = quick ? 3 : 5;
const here = fileURLToPath(new URL('.', import.meta.url));
const peersDir = join(here, '../../bench/peers');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `repeats` timed runs after one untimed run (the JIT's and the allocator's warm-up; skipped for the slow ts reference). */
function time(repeats: number, f: () => number, warmUp = true): Measure {
  const seconds: number[] = [];
  let value = warmUp ? f() : NaN;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    value = f();
    seconds.push((performance.now() - start) / 1000);
  }
  return { seconds, value };
}

interface Python {
  readonly exe: string;
  /** Where its NumPy comes from, e.g. "NumPy 1.24.2, Debian" or "NumPy 2.4.6, pip". */
  readonly label: string;
  readonly torch: boolean;
}

/** Every Python on this machine with its own NumPy (Debian's and a pip one may both be present). */
const pythons: Python[] = (() => {
  const found = new Map<string, Python>();
  for (const exe of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(exe, ['-c', 'import numpy; print(numpy.__version__); print(numpy.__file__)'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [version, file] = r.stdout.trim().split('\n');
    if (found.has(file)) continue;
    const origin = file.startsWith('/usr/lib/python3/dist-packages') ? 'Debian' : 'pip';
    found.set(file, { exe, label: `NumPy ${version}, ${origin}`, torch: spawnSync(exe, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0 });
  }
  return [...found.values()];
})();

/** A peer's run: its measure, or why it did not run; the BLAS it used goes in the note. */
function runPeer(python: Python, kind: 'numpy' | 'torch', workload: string, folder: string, dtype: DType, repeats: number, blasThreads: number): Measure | string {
  const r = spawnSync(python.exe, [join(peersDir, `${kind}_peer.py`), workload, folder, dtype, String(repeats)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(blasThreads), OPENBLAS_NUM_THREADS: String(blasThreads), OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' } });
  if (r.status !== 0) return `failed: ${r.stderr.trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Measure;
}

/** One row per NumPy on the machine (kind numpy) or one for PyTorch, labelled `who` plus where it comes from. */
function recordPeers(name: string, kind: 'numpy' | 'torch', who: string, workload: string, folder: string, dtype: DType, repeats: number, unit?: (s: number) => number, blasThreads = 2): Measure[] {
  const chosen = kind === 'numpy' ? pythons.map((python) => ({ python, label: `${who} (${python.label})` })) : pythons.filter((p) => p.torch).slice(0, 1).map((python) => ({ python, label: who }));
  if (chosen.length === 0) record(name, who, kind === 'numpy' ? 'skipped: no python3 with numpy (apt-get install python3-numpy)' : 'skipped: no PyTorch (apt-get install python3-torch)');
  const runs: Measure[] = [];
  for (const { python, label } of chosen) {
    const m = runPeer(python, kind, workload, folder, dtype, repeats, blasThreads);
    record(name, label, m, unit);
    if (typeof m !== 'string') runs.push(m);
  }
  return runs;
}

function dump(folder: string, arrays: Record<string, ArrayLike<number>>, meta: Record<string, number | string>): void {
  for (const [name, values] of Object.entries(arrays)) writeFileSync(join(folder, `${name}.bin`), Buffer.from(Float64Array.from(values).buffer));
  writeFileSync(join(folder, 'meta.json'), JSON.stringify(meta));
}

function trainingConfig(steps: number, lr: number): TrainingConfig {
  return parseTrialSpec({ training: { loss: 'logistic', optimizer: 'gd', learningRate: lr, stop: { maxSteps: steps }, record: { pointsPerDecade: 1 } } }).training;
}

function twoLayer(backend: Backend, split: DataSplit, width: number, members: MemberConfig[], dtype: DType): Model {
  const { model } = parseTrialSpec({ model: { hiddenWidths: [width], activation: 'relu', parametrization: 'standard', bias: false, init: 'gaussian', dtype } });
  const data = { inputDim: split.train.inputs.cols, outputDim: 1, trainInputs: split.train.inputs, directions: null, task: 'teacher' };
  return familyOf(model).build(model, members, data, backend);
}

/** Every member's stored weights of layer l, as the peers read them. */
function weightsOf(model: Model, layer: number): FloatArray {
  const slot = model.slots.find((s) => s.layer === layer && s.kind === 'weight');
  if (!slot) throw new Error(`internal: no weights for layer ${layer}`);
  return slot.values;
}

function data(n: number, d: number, dtype: DType): DataSplit {
  const split = generateSynthetic({ task: 'teacher', inputDim: d, teacherWidth: 2, n, nTest: 0 }, 1);
  return { ...split, train: { ...split.train, inputs: convert(split.train.inputs, dtype) } };
}

/** One epoch of plain SGD in `order`, its last minibatch shorter (the trainer's step rule, without its recording); returns the seconds its steps took. */
function sgdEpoch(model: Model, split: DataSplit, order: Int32Array, batch: number, lr: number): number {
  const { inputs, targets } = split.train;
  const d = inputs.cols;
  const K = model.ensembleSize;
  const floats = (length: number) => (model.dtype === 'float32' ? new Float32Array(length) : new Float64Array(length));
  const buffers = new Map<number, { x: Matrix; y: Float64Array; outputs: FloatArray }>();
  const losses = new Float64Array(K);
  const gradients = model.allocateGradients();
  const active = new Uint8Array(K).fill(1);
  const rates = Array.from({ length: K }, () => Float64Array.from(model.layerLearningRateScales, (scale) => lr * scale));
  const start = performance.now();
  for (let first = 0; first < order.length; first += batch) {
    const rows = Math.min(batch, order.length - first);
    let b = buffers.get(rows);
    if (!b) buffers.set(rows, (b = { x: { rows, cols: d, data: floats(rows * d) }, y: new Float64Array(rows), outputs: floats(K * rows * model.outputDim) }));
    for (let r = 0; r < rows; r++) {
      const i = order[first + r];
      b.x.data.set(inputs.data.subarray(i * d, (i + 1) * d), r * d);
      b.y[r] = targets[i];
    }
    model.lossGradient(b.x, b.y, 'crossEntropy', b.outputs, losses, gradients, active);
    gradientDescentUpdate(model, gradients, active, rates);
  }
  return (performance.now() - start) / 1000;
}

/** Member 0's cross-entropy on the first `rows` training points (the value both sides must agree on). */
function firstLoss(model: Model, split: DataSplit, rows: number): number {
  const d = split.train.inputs.cols;
  const x = { rows, cols: d, data: split.train.inputs.data.subarray(0, rows * d) };
  const out = model.forward(x);
  return lossAndGradient('crossEntropy', out.subarray(0, rows * model.outputDim), split.train.targets.subarray(0, rows), rows, model.outputDim, null);
}

interface Row {
  workload: string;
  who: string;
  median: number | null;
  value: number | null;
  note?: string;
}

const rows: Row[] = [];
const backends: [string, Backend][] = [];
const native = createBackend('native');
if (!(native instanceof Error)) backends.push(['featlab native', native]);
backends.push(['featlab ts', new TsBackend()]);

function record(workload: string, who: string, m: Measure | string, unit: (s: number) => number = (s) => s): void {
  if (typeof m === 'string') rows.push({ workload, who, median: null, value: null, note: m });
  else rows.push({ workload, who, median: unit(median(m.seconds)), value: m.value, ...(m.blas ? { note: m.blas } : {}) });
}

// W1: two-layer GD, ReLU, logistic, full batch, both layers.
// W1 small runs long enough (tens of milliseconds) that a step's cost, not the timer's noise, is measured.
const w1: [number, number, number, number][] = quick ? [[200, 2, 100, 2000], [1000, 20, 1000, 100]] : [[200, 2, 100, 5000], [1000, 20, 1000, 500], [10000, 784, 1024, 20]];
if (selected('W1'))
for (const [n, d, m, steps] of w1)
  for (const dtype of ['float64', 'float32'] as DType[]) {
    const name = `W1 ${n}×${d}×${m}, ${steps} steps, ${dtype}`;
    const split = data(n, d, dtype);
    const lr = 0.5;
    const folder = mkdtempSync(join(tmpdir(), 'featlab-bench-'));
    const init = (b: Backend) => twoLayer(b, split, m, [{ seed: 3, initScale: 1, outputScale: 1 }], dtype);
    const probe = init(new TsBackend());
    dump(folder, { x: split.train.inputs.data, y: split.train.targets, w: weightsOf(probe, 0), a: weightsOf(probe, 1) }, { n, d, m, steps, lr });
    for (const [who, b] of backends) {
      if (who === 'featlab ts' && n * d * m > 1e8) {
        record(name, who, 'skipped: a single step takes about a minute in plain TypeScript');
        continue;
      }
      const repeats = n * d * m > 1e8 ? 3 : REPEATS;
      record(name, who, time(repeats, () => trainEnsemble(init(b), split, trainingConfig(steps, lr), { seed: 0 })[0].final.trainLoss as number), (s) => steps / s);
    }
    recordPeers(name, 'numpy', 'NumPy', 'two_layer_gd', folder, dtype, n * d * m > 1e8 ? 3 : REPEATS, (s) => steps / s);
    recordPeers(name, 'torch', 'PyTorch', 'two_layer_gd', folder, dtype, n * d * m > 1e8 ? 3 : REPEATS, (s) => steps / s);
  }

// W2: 64 models, init scales log-spaced in [1e-3, 10], 2000 steps each, one ensemble.
if (selected('W2')) {
  const K = 64;
  const steps = quick ? 500 : 2000;
  const name = `W2 ${K} models 200×2×100, ${steps} steps`;
  const split = data(200, 2, 'float64');
  const members = Array.from({ length: K }, (_, k) => ({ seed: 3, initScale: 10 ** (-3 + (4 * k) / (K - 1)), outputScale: 1 }));
  const build = (b: Backend) => twoLayer(b, split, 100, members, 'float64');
  const probe = build(new TsBackend());
  const folder = mkdtempSync(join(tmpdir(), 'featlab-bench-'));
  dump(folder, { x: split.train.inputs.data, y: split.train.targets, w: weightsOf(probe, 0), a: weightsOf(probe, 1) }, { k: K, n: 200, d: 2, m: 100, steps, lr: 0.5 });
  const meanLoss = (b: Backend) => {
    const results = trainEnsemble(build(b), split, trainingConfig(steps, 0.5), { seed: 0 });
    return results.reduce((s, r) => s + (r.final.trainLoss as number), 0) / K;
  };
  // The ts reference is timed once here: it is shown for the gap between backends, not raced.
  for (const [who, b] of backends) record(name, who, time(quick || who === 'featlab ts' ? 1 : REPEATS, () => meanLoss(b), who !== 'featlab ts'), (s) => K / s);
  recordPeers(name, 'numpy', 'NumPy, batched matmul or matmul loop', 'sweep', folder, 'float64', quick ? 1 : REPEATS, (s) => K / s);
  recordPeers(name, 'torch', 'PyTorch, batched matmul', 'sweep', folder, 'float64', quick ? 1 : REPEATS, (s) => K / s);
}

// W3: all singular values of the 500 × 10500 Jacobian of a (500, 20, 500) net, from its Gram matrix built without forming J (the model's ntkGram; the peers do the same).
if (selected('W3')) {
  const name = 'W3 Jacobian spectrum 500 × 10500';
  const split = data(500, 20, 'float64');
  const build = (b: Backend) => twoLayer(b, split, 500, [{ seed: 4, initScale: 1, outputScale: 1 }], 'float64');
  const probe = build(new TsBackend());
  const folder = mkdtempSync(join(tmpdir(), 'featlab-bench-'));
  dump(folder, { x: split.train.inputs.data, w: weightsOf(probe, 0), a: weightsOf(probe, 1) }, { n: 500, d: 20, m: 500 });
  for (const [who, b] of backends) {
    const model = build(b);
    const topSingularValue = () => {
      const values = b.symmetricEigenvalues(model.ntkGram(0, split.train.inputs), split.train.inputs.rows);
      return Math.sqrt(Math.max(values[values.length - 1], 0));
    };
    record(name, who, time(who === 'featlab ts' ? 1 : REPEATS, topSingularValue, who !== 'featlab ts'));
  }
  recordPeers(name, 'numpy', 'NumPy', 'jacobian', folder, 'float64', REPEATS);
  recordPeers(name, 'torch', 'PyTorch', 'jacobian', folder, 'float64', REPEATS);
}

// W4: ridge regression of 5000 × 512 features onto 5000 × 2048, lambda = 1e-3.
if (selected('W4')) {
  const name = 'W4 ridge 5000×512 → 5000×2048';
  const rng = Rng.fromSeed(5);
  const a = Float64Array.from({ length: 5000 * 512 }, () => rng.gaussian());
  const bm = Float64Array.from({ length: 5000 * 2048 }, () => rng.gaussian());
  const folder = mkdtempSync(join(tmpdir(), 'featlab-bench-'));
  dump(folder, { a, b: bm }, { n: 5000, p: 512, q: 2048, lambda: 1e-3 });
  for (const [who, b] of backends) {
    if (who === 'featlab ts') {
      record(name, who, 'skipped: minutes in plain TypeScript');
      continue;
    }
    record(name, who, time(REPEATS, () => b.ridgeSolve(a, 5000, 512, bm, 2048, 1e-3).reduce((s, v) => s + v * v, 0)));
  }
  recordPeers(name, 'numpy', 'NumPy', 'ridge', folder, 'float64', REPEATS);
  recordPeers(name, 'torch', 'PyTorch', 'ridge', folder, 'float64', REPEATS);
}

// W5, the scale workload: a sweep of trials (n, d, m) = (1000, 20, 500), two-layer ReLU, logistic loss,
// GD stopped at a target training risk, end to end through `featlab run` (data, store and the recorded
// curves included), against the same trials (the same data and inits, written out) in a NumPy script
// that runs them in a pool of one process per core. Both report the steps each trial took.
const notes: string[] = [];
if (selected('W5')) {
  const seeds = quick ? 25 : 250;
  const initScales = [0.25, 0.5, 1, 2];
  const trials = seeds * initScales.length;
  const name = `W5 sweep of ${trials} trials 1000×20×500 to target risk`;
  const folder = mkdtempSync(join(tmpdir(), 'featlab-bench-'));
  const target = 0.1;
  const maxSteps = 3000;
  const lr = 0.5;
  const spec = {
    name: 'bench-sweep',
    base: {
      model: { hiddenWidths: [500], activation: 'relu' },
      data: { task: 'teacher', inputDim: 20, teacherWidth: 3, n: 1000, nTest: 1000 },
      training: { loss: 'logistic', optimizer: 'gd', learningRate: lr, stop: { maxSteps, targetTrainRisk: target } },
    },
    sweep: { grid: { 'model.initScale': initScales }, seeds },
  };
  const specPath = join(folder, 'sweep.json');
  writeFileSync(specPath, JSON.stringify(spec));
  // The NumPy script gets featlab's data and initial weights, trial by trial.
  const experiment = parseExperiment(spec);
  // One data set per seed (the init scale does not change it), built once.
  const splits = new Map<number, DataSplit>();
  for (const trial of experiment.trials) if (!splits.has(trial.spec.seed)) splits.set(trial.spec.seed, buildData(trial.spec));
  const seedList = [...splits.keys()];
  const xs: number[] = [];
  const ys: number[] = [];
  for (const split of splits.values()) {
    xs.push(...split.train.inputs.data);
    ys.push(...split.train.targets);
  }
  const hiddenWeights: number[] = [];
  const outputWeights: number[] = [];
  const keys: string[] = [];
  for (const trial of experiment.trials) {
    const model = buildModel(trial.spec, splits.get(trial.spec.seed) as DataSplit, [memberOverrideOf(trial.spec)]);
    hiddenWeights.push(...model.slots[0].values);
    outputWeights.push(...model.slots[1].values);
    keys.push(`${trial.spec.seed}/${String(trial.spec.model.initScale)}`);
  }
  const processes = availableParallelism();
  dump(folder, { x: xs, y: ys, w: hiddenWeights, a: outputWeights, seedIndex: experiment.trials.map((t) => seedList.indexOf(t.spec.seed)) }, { trials, seeds: seedList.length, n: 1000, d: 20, m: 500, lr, target, maxSteps, processes });
  const featlabBin = join(here, '../../bin/featlab.js');
  const db = join(folder, 'sweep.db');
  const started = performance.now();
  const run = spawnSync(process.execPath, [featlabBin, 'run', specPath, '--db', db, '--quiet', '--no-report'], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) record(name, 'featlab native', `failed: ${run.stderr.trim().split('\n').pop()}`);
  else {
    const rows = JSON.parse(execFileSync(process.execPath, [featlabBin, 'export', 'bench-sweep', '--db', db, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Record<string, unknown>[];
    const featlabSteps = new Map(rows.map((r) => [`${String(r.seed)}/${String(r['model.initScale'])}`, Number(r.steps)]));
    const meanLoss = rows.reduce((a, r) => a + Number(r.train_loss), 0) / rows.length;
    record(name, 'featlab native', { seconds: [seconds], value: meanLoss });
    const numpyRuns = recordPeers(name, 'numpy', `NumPy, pool of ${processes} processes`, 'sweep_to_target', folder, 'float64', 1, undefined, 1);
    if (numpyRuns.length > 0) {
      const numpySteps = JSON.parse(readFileSync(join(folder, 'steps.json'), 'utf8')) as number[];
      const same = keys.filter((key, i) => featlabSteps.get(key) === numpySteps[i]).length;
      const total = (values: number[]) => values.reduce((a, b) => a + b, 0);
      notes.push(
        `W5: ${same} of ${trials} trials stopped at the same step in featlab and NumPy (the last NumPy listed; a trial that differs would sit within rounding of the target); ${total([...featlabSteps.values()])} GD steps in featlab, ${total(numpySteps)} in NumPy; featlab's time includes generating the data, the test set's evaluation at each recorded step and the store, NumPy's only the training.`,
      );
    }
  }
}

// W6: one epoch of minibatch SGD (batch 128) of the 5-layer CNN (32 channels) and ResNet-8 (16 channels)
// on 10 000 MNIST digits, fp32 and fp64, against PyTorch with the same data, order, init and loss; and an
// ensemble of 8 members in one pass against 8 of PyTorch's epochs. Each side times the epoch's steps only.
if (selected('W6')) {
  const n = quick ? 2560 : 10000;
  notes.push(
    `W6: medians of 3 epochs in float32 and one in float64 (each a fresh net from the same init); featlab times its steps (lossGradient and the update), PyTorch its loop (zero_grad, forward, backward, step), neither the data loading; PyTorch runs with 2 threads and OMP_WAIT_POLICY=PASSIVE (its OpenMP threads sleep between calls, like featlab's own), in the faster of channels_last and NCHW (its note says which).`,
  );
  const batch = 128;
  const lr = 0.05;
  for (const architecture of ['cnn5', 'resnet8'] as const)
    for (const dtype of ['float32', 'float64'] as DType[]) {
      const name = `W6 ${architecture} epoch ${n}×28×28, batch ${batch}, ${dtype}`;
      const spec = parseTrialSpec({ seed: 7, model: { family: 'cnn', architecture, dtype }, data: { name: 'mnist', n, nTest: 0, perClass: false }, training: { loss: 'crossEntropy', optimizer: 'sgd', learningRate: lr, batchSize: batch } });
      const split = buildData(spec);
      const order = Rng.fromSeed(spec.seed).child('minibatches').permutation(n);
      const folder = mkdtempSync(join(tmpdir(), 'featlab-bench-'));
      const probe = buildModel(spec, split, [{}], new TsBackend());
      const weights: Record<string, FloatArray> = {};
      for (let l = 0; l < probe.layerCount; l++) weights[`w${l}`] = weightsOf(probe, l);
      dump(folder, { x: split.train.inputs.data, labels: split.train.targets, order, ...weights }, { n, batch, lr, architecture, readoutChannels: architecture === 'cnn5' ? 32 : 64 });
      const repeats = dtype === 'float32' ? 3 : 1;
      const ensemble = `W6 ${architecture} epoch ${n}×28×28, batch ${batch}, ${dtype}, 8 members`;
      for (const [who, b] of backends) {
        if (who === 'featlab ts') {
          record(name, who, 'skipped: the oracle for the conformance tests, not raced');
          continue;
        }
        for (const members of dtype === 'float32' ? [1, 8] : [1]) {
          const overrides = Array.from({ length: members }, (_, k) => ({ initSeed: spec.seed + k }));
          const seconds: number[] = [];
          let value = NaN;
          for (let r = 0; r < repeats; r++) {
            const model = buildModel(spec, split, overrides, b);
            seconds.push(sgdEpoch(model, split, order, batch, lr));
            value = firstLoss(model, split, 1000);
          }
          record(members === 1 ? name : ensemble, members === 1 ? who : `${who}, ${members} members in one pass`, { seconds, value });
        }
      }
      const peers = recordPeers(name, 'torch', 'PyTorch', 'cnn_epoch', folder, dtype, repeats, (s) => s, 2);
      if (dtype === 'float32' && peers.length) rows.push({ workload: ensemble, who: "PyTorch, 8 models' epochs (8 × one)", median: 8 * median(peers[0].seconds), value: null });
    }
}

// The table: rates (steps/s, models/s) are higher-better, times lower-better; ratios against the faster peer.
const isRate = (workload: string) => workload.startsWith('W1') || workload.startsWith('W2');
// W5 is a whole sweep's wall time (lower is better), like W3 and W4.
const fmt = (v: number | null) => (v === null ? '—' : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3));
const lines: string[] = [];
for (const workload of [...new Set(rows.map((r) => r.workload))]) {
  const group = rows.filter((r) => r.workload === workload);
  const peers = group.filter((r) => !r.who.startsWith('featlab') && r.median !== null);
  const best = peers.length ? (isRate(workload) ? Math.max(...peers.map((p) => p.median as number)) : Math.min(...peers.map((p) => p.median as number))) : null;
  const numpy = group.find((r) => r.who.startsWith('NumPy') && r.median !== null)?.median ?? null;
  for (const r of group) {
    const vsBest = r.median !== null && best !== null ? (isRate(workload) ? r.median / best : best / r.median) : null;
    const vsNumpy = r.median !== null && numpy !== null ? (isRate(workload) ? r.median / numpy : numpy / r.median) : null;
    lines.push(`| ${workload} | ${r.who} | ${fmt(r.median)} ${isRate(workload) ? (workload.startsWith('W2') ? 'models/s' : 'steps/s') : 's'} | ${r.value === null ? '—' : r.value.toPrecision(8)} | ${r.who.startsWith('featlab') ? `${fmt(vsBest)}× | ${fmt(vsNumpy)}×` : '| '} | ${r.note ?? ''} |`);
  }
}
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const blas = native instanceof Error ? 'native backend not built' : (native.describe?.().blas ?? '');
const report = [
  `## ${new Date().toISOString().slice(0, 10)}: \`npm run bench${quick || only ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only ${[...only].join(',')}` : ''}\``,
  '',
  `Machine: ${cpu}, ${availableParallelism()} cores, Node ${process.version}; ${blas}. Medians of ${REPEATS} repeats (3 for W1 large; the ts backend once in W2 and W3), all in this one command. "vs faster peer" and "vs NumPy" are featlab's speed divided by the peer's (above 1 is faster). "value" is the final training loss (W1; W2 mean over models; W5 mean over trials), the top singular value (W3), ‖Θ‖² (W4) or the cross-entropy on the first 1000 training points after the epoch (W6, member 0): implementations must agree (W6 in float32 to the chaos of 79 SGD steps).`,
  '',
  '| workload | implementation | speed | value | vs faster peer | vs NumPy | note |',
  '|---|---|---|---|---|---|---|',
  ...lines,
  '',
  ...notes,
  '',
].join('\n');
process.stdout.write(`${report}\n`);
const resultsPath = join(here, '../../bench/RESULTS.md');
const previous = (() => {
  try {
    return readFileSync(resultsPath, 'utf8');
  } catch {
    return '# Benchmark results\n\nEach section: the command, the machine, the numbers. Newest first.\n\n';
  }
})();
const [head, ...rest] = previous.split('\n## ');
writeFileSync(resultsPath, `${head.trimEnd()}\n\n${report}\n${rest.length ? `## ${rest.join('\n## ')}` : ''}`);
