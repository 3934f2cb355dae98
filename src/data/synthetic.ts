/**
 * Synthetic tasks of the seed papers. Every draw comes from named streams of the data seed
 * ("train", "test", "task", "labelNoise"), so changing the test size never changes the training set.
 */
import { type Matrix, zeros, row, dot } from '../linalg/matrix.js';
import { Rng } from '../linalg/rng.js';
import { gaussianMatrix, orthogonalMatrix, sphereMatrix } from '../linalg/samplers.js';
import { asValueTargets, type DataSplit, type Dataset, type TargetKind } from './dataset.js';

export const INPUT_DISTRIBUTIONS = ['gaussian', 'sphere', 'orthogonal', 'correlated'] as const;
export type InputDistribution = (typeof INPUT_DISTRIBUTIONS)[number];

export const SYNTHETIC_TASKS = ['teacher', 'linearTeacher', 'separable', 'xor', 'parity', 'line1d', 'additionMultiplication', 'images', 'clusters', 'gaussianMixture'] as const;
export type SyntheticTask = (typeof SYNTHETIC_TASKS)[number];

export interface SyntheticConfig {
  readonly task: SyntheticTask;
  readonly n: number;
  readonly nTest: number;
  readonly inputDim: number;
  readonly inputs: InputDistribution;
  /** Pairwise correlation of inputs for `correlated` (weakly correlated: small). */
  readonly correlation: number;
  /** teacher: number of teacher neurons; parity: number of relevant coordinates. */
  readonly teacherWidth: number;
  /** teacher: rows of teacher directions (normalized); random orthonormal when absent. */
  readonly teacherDirections?: readonly (readonly number[])[];
  /** teacher/linearTeacher/additionMultiplication: "sign" gives ±1 labels, "value" real targets; images: "value" gives one-hot rows (±1 for two classes) for the square loss. */
  readonly labels: 'sign' | 'value';
  /** separable: the margin pushed between the classes along the true direction. */
  readonly margin: number;
  /** xor: standard deviation of the cluster noise; clusters: the norm of the noise around each center. */
  readonly spread: number;
  /** line1d: slope of y in a. */
  readonly slope: number;
  /** additionMultiplication: weight of the product term z₁z₃. */
  readonly multiplicationWeight: number;
  /** Additive Gaussian input noise (additionMultiplication). */
  readonly inputNoise: number;
  /**
   * additionMultiplication: σ of a Gaussian second addition signal z₂ (±1 when absent). With ±1 the
   * product decides every point with z₁ = −z₂, half of them, whatever its weight; with a Gaussian z₂
   * it decides only those with |z₁ + z₂| < w, a weaker signal.
   */
  readonly additionSpread?: number;
  readonly labelNoise: { readonly flip: number; readonly additive: number; readonly onTest: boolean };
  /** images: the generator's image size, channels, latent (intrinsic) dimension and classes (IMAGE_DEFAULTS where absent). */
  readonly images?: Partial<ImageTaskConfig>;
  /** clusters: how many clusters and classes (CLUSTER_DEFAULTS where absent); `spread` is the noise around each center. */
  readonly clusters?: Partial<ClusterTaskConfig>;
  /** gaussianMixture: the signal κ and the noise σ (MIXTURE_DEFAULTS where absent). */
  readonly mixture?: Partial<MixtureTaskConfig>;
}

/**
 * The `gaussianMixture` task (Yeom et al. 2026's data model): the symmetric binary mixture x = κ·y·s + σ·z with
 * y = ±1 equally likely, z ~ N(0, I_d) and s a unit direction (teacherDirections' first row, random where
 * absent), no label noise of its own. The Bayes classifier is sign⟨s, x⟩, with error Φ(−κ/σ). d ≥ n is allowed:
 * then the training set is separable almost surely.
 */
export interface MixtureTaskConfig {
  readonly kappa: number;
  readonly sigma: number;
}

export const MIXTURE_DEFAULTS: MixtureTaskConfig = { kappa: 1, sigma: 1 };

/**
 * The `clusters` task (Oymak et al. 2019's K-cluster mixture): K unit centers μ_k drawn at random on the
 * sphere, each point x = (μ_k + spread·z/√d)/‖·‖ with k uniform and z ~ N(0, I_d), so every point is a
 * unit vector within about `spread` of its center; cluster k carries class k mod C. The Jacobian of n such
 * points has K·C singular values (per center and output) that grow like √(n/K), the rest do not.
 */
export interface ClusterTaskConfig {
  readonly count: number;
  readonly classes: number;
}

export const CLUSTER_DEFAULTS: ClusterTaskConfig = { count: 8, classes: 2 };

/**
 * The `images` task: channels × side × side images x = tanh(Σ_j z_j B_j / √r) of a latent z ~ N(0, I_r),
 * with B_1 … B_r fixed smooth random images (Gaussian noise blurred over side/8 pixels, unit RMS), drawn
 * once per data seed; the class is argmax_c ⟨u_c, z⟩ over random latent directions u_c. The images fill
 * an r-dimensional manifold of the pixel space, so r sets how hard the task is (seed 000's "effective
 * dimension") without a download. Two classes are ±1 labels (as real data's), more are class indices.
 */
export interface ImageTaskConfig {
  readonly side: number;
  readonly channels: number;
  readonly latentDim: number;
  readonly classes: number;
}

export const IMAGE_DEFAULTS: ImageTaskConfig = { side: 16, channels: 1, latentDim: 8, classes: 10 };

/**
 * How many classes a task that draws class labels carries (images, clusters), or null for the others;
 * with `labels: "value"` such a task's classes are read as one-hot rows (±1 for two) for the square loss.
 */
export function syntheticClassCount(config: { readonly task?: SyntheticTask; readonly images?: { readonly classes?: number }; readonly clusters?: { readonly classes?: number } }): number | null {
  if (config.task === 'images') return config.images?.classes ?? IMAGE_DEFAULTS.classes;
  if (config.task === 'clusters') return config.clusters?.classes ?? CLUSTER_DEFAULTS.classes;
  return null;
}

/** The images task's generator with its defaults filled in. */
function imageTaskConfig(config: Pick<SyntheticConfig, 'images'>): ImageTaskConfig {
  return { ...IMAGE_DEFAULTS, ...config.images };
}

/** The input dimension of a synthetic task: channels·side² for images, inputDim otherwise. */
export function syntheticInputDim(config: Pick<SyntheticConfig, 'task' | 'inputDim' | 'images'>): number {
  if (config.task !== 'images') return config.inputDim;
  const { channels, side } = imageTaskConfig(config);
  return channels * side * side;
}

export const SYNTHETIC_DEFAULTS: Omit<SyntheticConfig, 'task'> = {
  n: 200,
  nTest: 1000,
  inputDim: 2,
  inputs: 'gaussian',
  correlation: 0,
  teacherWidth: 1,
  labels: 'sign',
  margin: 0,
  spread: 0.2,
  slope: 1,
  multiplicationWeight: 1,
  inputNoise: 0,
  labelNoise: { flip: 0, additive: 0, onTest: false },
};

function sampleInputs(rng: Rng, config: SyntheticConfig, count: number, shared: Float64Array): Matrix {
  const d = config.inputDim;
  switch (config.inputs) {
    case 'gaussian':
      return gaussianMatrix(rng, count, d);
    case 'sphere':
      return sphereMatrix(rng, count, d);
    case 'orthogonal':
      if (count > d) throw new Error(`data.inputs: "orthogonal" needs n ≤ inputDim for each split, got ${count} > ${d}`);
      return orthogonalMatrix(rng, count, d);
    case 'correlated': {
      // x = √(1−ρ) z + √ρ z₀ with z₀ shared by all points: pairwise correlation ρ.
      const x = gaussianMatrix(rng, count, d);
      const a = Math.sqrt(1 - config.correlation);
      const b = Math.sqrt(config.correlation);
      for (let i = 0; i < count; i++) for (let j = 0; j < d; j++) x.data[i * d + j] = a * x.data[i * d + j] + b * shared[j];
      return x;
    }
  }
}

function normalizedRows(rows: readonly (readonly number[])[], d: number): Matrix {
  const m = zeros(rows.length, d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`data.teacherDirections[${i}]: has ${r.length} entries, inputDim is ${d}`);
    const s = Math.sqrt(r.reduce((acc, v) => acc + v * v, 0));
    if (s === 0) throw new Error(`data.teacherDirections[${i}]: the zero vector has no direction`);
    r.forEach((v, j) => (m.data[i * d + j] = v / s));
  });
  return m;
}

/** The first given teacher direction (normalized), or a random unit vector. */
function oneDirection(config: SyntheticConfig, rng: Rng): Matrix {
  return config.teacherDirections ? normalizedRows(config.teacherDirections.slice(0, 1), config.inputDim) : sphereMatrix(rng, 1, config.inputDim);
}

interface Task {
  readonly kind: TargetKind;
  readonly classes: number;
  readonly directions: Matrix | null;
  /** Rewrites inputs in place where the task shapes them, and returns the clean targets. */
  label(x: Matrix, rng: Rng): Float64Array;
}

function relu(z: number): number {
  return z > 0 ? z : 0;
}

function signLabel(v: number): number {
  return v > 0 ? 1 : -1;
}

function makeTask(config: SyntheticConfig, rng: Rng): Task {
  const d = config.inputDim;
  const kind: TargetKind = config.labels === 'sign' ? 'binary' : 'regression';
  const finish = (v: number) => (config.labels === 'sign' ? signLabel(v) : v);
  switch (config.task) {
    case 'teacher': {
      const k = config.teacherWidth;
      const directions = config.teacherDirections ? normalizedRows(config.teacherDirections, d) : orthogonalOrRandom(rng, k, d);
      // Output weights alternate +1, −1, … so a sign-labelled teacher has both classes.
      return {
        kind,
        classes: 2,
        directions,
        label: (x) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            let f = 0;
            for (let j = 0; j < directions.rows; j++) f += (j % 2 === 0 ? 1 : -1) * relu(dot(row(x, i), row(directions, j)));
            return finish(f);
          }),
      };
    }
    case 'linearTeacher': {
      const beta = oneDirection(config, rng);
      return { kind, classes: 2, directions: beta, label: (x) => Float64Array.from({ length: x.rows }, (_, i) => finish(dot(row(x, i), beta.data))) };
    }
    case 'separable': {
      const w = sphereMatrix(rng, 1, d);
      return {
        kind: 'binary',
        classes: 2,
        directions: w,
        label: (x) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            const xi = row(x, i);
            const y = signLabel(dot(xi, w.data));
            // Push each point away from the separating hyperplane by the margin.
            for (let j = 0; j < d; j++) xi[j] += (y * config.margin * w.data[j]) / 2;
            return y;
          }),
      };
    }
    case 'xor': {
      if (d < 2) throw new Error('data.inputDim: xor needs inputDim ≥ 2');
      return {
        kind: 'binary',
        classes: 2,
        directions: null,
        label: (x, r) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            const c0 = r.sign();
            const c1 = r.sign();
            const xi = row(x, i);
            for (let j = 0; j < d; j++) xi[j] *= config.spread;
            xi[0] += c0;
            xi[1] += c1;
            return c0 * c1;
          }),
      };
    }
    case 'parity': {
      const k = config.teacherWidth;
      if (k > d) throw new Error(`data.teacherWidth: parity over ${k} coordinates needs inputDim ≥ ${k}`);
      return {
        kind: 'binary',
        classes: 2,
        directions: null,
        label: (x, r) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            const xi = row(x, i);
            let y = 1;
            for (let j = 0; j < d; j++) {
              xi[j] = r.sign();
              if (j < k) y *= xi[j];
            }
            return y;
          }),
      };
    }
    case 'line1d': {
      // Xu & Ziyin's 1D data: x = a·e for a fixed unit e, y = slope·a.
      const e = sphereMatrix(rng, 1, d);
      return {
        kind: 'regression',
        classes: 0,
        directions: e,
        label: (x) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            const a = x.data[i * d];
            for (let j = 0; j < d; j++) x.data[i * d + j] = a * e.data[j];
            return config.slope * a;
          }),
      };
    }
    case 'images':
      return imageTask(imageTaskConfig(config), rng);
    case 'clusters':
      return clusterTask({ ...CLUSTER_DEFAULTS, ...config.clusters }, config.spread, d, rng);
    case 'gaussianMixture': {
      const { kappa, sigma } = { ...MIXTURE_DEFAULTS, ...config.mixture };
      const s = oneDirection(config, rng);
      return {
        kind,
        classes: 2,
        directions: s,
        label: (x, r) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            const y = r.sign();
            const xi = row(x, i);
            for (let j = 0; j < d; j++) xi[j] = kappa * y * s.data[j] + sigma * xi[j];
            return y;
          }),
      };
    }
    case 'additionMultiplication': {
      // Signal vectors v1, v2 ("addition") and v3 ("multiplication", enters only through z1·z3).
      if (d < 3) throw new Error('data.inputDim: additionMultiplication needs inputDim ≥ 3');
      const v = orthogonalMatrix(rng, 3, d);
      return {
        kind,
        classes: 2,
        directions: v,
        label: (x, r) =>
          Float64Array.from({ length: x.rows }, (_, i) => {
            const z = [r.sign(), config.additionSpread ? config.additionSpread * r.gaussian() : r.sign(), r.sign()];
            const xi = row(x, i);
            for (let j = 0; j < d; j++) xi[j] = config.inputNoise * xi[j] + z[0] * v.data[j] + z[1] * v.data[d + j] + z[2] * v.data[2 * d + j];
            return finish(z[0] + z[1] + config.multiplicationWeight * z[0] * z[2]);
          }),
      };
    }
  }
}

/** Gaussian noise blurred separably by a Gaussian of σ pixels (zero padding), channel by channel, scaled to unit RMS; channel-first layout. */
function smoothImage(rng: Rng, channels: number, side: number, sigma: number): Float64Array {
  const radius = Math.ceil(3 * sigma);
  const kernel = Float64Array.from({ length: 2 * radius + 1 }, (_, t) => Math.exp(-((t - radius) ** 2) / (2 * sigma * sigma)));
  const noise = Float64Array.from({ length: channels * side * side }, () => rng.gaussian());
  const blurred = new Float64Array(noise.length);
  const pass = (from: Float64Array, to: Float64Array, alongRows: boolean) => {
    for (let c = 0; c < channels; c++)
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          let sum = 0;
          for (let t = -radius; t <= radius; t++) {
            const [yy, xx] = alongRows ? [y, x + t] : [y + t, x];
            if (yy >= 0 && yy < side && xx >= 0 && xx < side) sum += kernel[t + radius] * from[(c * side + yy) * side + xx];
          }
          to[(c * side + y) * side + x] = sum;
        }
  };
  pass(noise, blurred, true);
  pass(blurred, noise, false);
  const rms = Math.sqrt(noise.reduce((a, v) => a + v * v, 0) / noise.length);
  return noise.map((v) => v / rms);
}

function imageTask(config: ImageTaskConfig, rng: Rng): Task {
  const { side, channels, latentDim: r, classes } = config;
  const basis = Array.from({ length: r }, (_, j) => smoothImage(rng.child(`basis${j}`), channels, side, Math.max(1, side / 8)));
  const directions = gaussianMatrix(rng.child('classes'), classes, r);
  const pixels = channels * side * side;
  const binary = classes === 2;
  return {
    kind: binary ? 'binary' : 'classes',
    classes,
    directions: null,
    label: (x, labels) =>
      Float64Array.from({ length: x.rows }, (_, i) => {
        const z = Float64Array.from({ length: r }, () => labels.gaussian());
        const image = x.data.subarray(i * pixels, (i + 1) * pixels);
        image.fill(0);
        for (let j = 0; j < r; j++) for (let p = 0; p < pixels; p++) image[p] += z[j] * basis[j][p];
        for (let p = 0; p < pixels; p++) image[p] = Math.tanh(image[p] / Math.sqrt(r));
        let best = 0;
        let bestScore = -Infinity;
        for (let c = 0; c < classes; c++) {
          let score = 0;
          for (let j = 0; j < r; j++) score += directions.data[c * r + j] * z[j];
          if (score > bestScore) [best, bestScore] = [c, score];
        }
        return binary ? (best === 0 ? -1 : 1) : best;
      }),
  };
}

function clusterTask(config: ClusterTaskConfig, spread: number, d: number, rng: Rng): Task {
  const { count, classes } = config;
  if (classes > count) throw new Error(`data.clusters.classes: ${classes} classes need at least as many clusters, got count ${count}`);
  const centers = sphereMatrix(rng, count, d);
  const binary = classes === 2;
  return {
    kind: binary ? 'binary' : 'classes',
    classes,
    directions: centers,
    label: (x, r) =>
      Float64Array.from({ length: x.rows }, (_, i) => {
        const k = Math.min(count - 1, Math.floor(r.uniform() * count));
        const xi = row(x, i);
        let norm = 0;
        for (let j = 0; j < d; j++) {
          xi[j] = centers.data[k * d + j] + (spread * r.gaussian()) / Math.sqrt(d);
          norm += xi[j] * xi[j];
        }
        norm = Math.sqrt(norm);
        for (let j = 0; j < d; j++) xi[j] /= norm;
        const label = k % classes;
        return binary ? (label === 0 ? -1 : 1) : label;
      }),
  };
}

function orthogonalOrRandom(rng: Rng, k: number, d: number): Matrix {
  return k <= d ? orthogonalMatrix(rng, k, d) : sphereMatrix(rng, k, d);
}

/** Real targets that are one-hot rows of more than one class (multi-class labels for the square loss). */
function isOneHot(data: Dataset): boolean {
  const k = data.targetDim;
  if (k < 2) return false;
  for (let i = 0; i < data.inputs.rows; i++) {
    let ones = 0;
    for (let c = 0; c < k; c++) {
      const v = data.targets[i * k + c];
      if (v === 1) ones++;
      else if (v !== 0) return false;
    }
    if (ones !== 1) return false;
  }
  return true;
}

/** Flips exactly round(flip·n) class labels, or adds Gaussian noise to real targets; returns the mask of noisy points. */
export function applyLabelNoise(data: Dataset, labelNoise: { readonly flip: number; readonly additive: number }, rng: Rng): Uint8Array | null {
  const { flip, additive } = labelNoise;
  if (flip === 0 && additive === 0) return null;
  const n = data.inputs.rows;
  const noisy = new Uint8Array(n);
  // ±1 targets given as real values (for the square loss) flip like binary labels, one-hot rows like classes.
  const signs = data.targetDim === 1 && data.targets.every((y) => y === 1 || y === -1);
  const oneHot = data.kind === 'regression' && isOneHot(data);
  if (flip > 0) {
    if (data.kind === 'regression' && !signs && !oneHot) throw new Error('data.labelNoise.flip: flipping needs class labels, ±1 targets or one-hot rows; use labelNoise.additive for real targets');
    // Exactly round(flip·n) points, chosen by a permutation.
    const order = rng.permutation(n);
    const count = Math.round(flip * n);
    for (let t = 0; t < count; t++) {
      const i = order[t];
      noisy[i] = 1;
      if (data.kind === 'binary' || signs) data.targets[i] = -data.targets[i];
      else if (oneHot) {
        const k = data.targetDim;
        const row = data.targets.subarray(i * k, (i + 1) * k);
        const label = row.indexOf(1);
        row[label] = 0;
        row[(label + 1 + rng.integer(k - 1)) % k] = 1;
      } else data.targets[i] = (data.targets[i] + 1 + rng.integer(data.classes - 1)) % data.classes;
    }
  }
  if (additive > 0) {
    if (data.kind !== 'regression') throw new Error('data.labelNoise.additive: additive noise needs real targets (labels: "value"); use labelNoise.flip for classes');
    for (let i = 0; i < data.targets.length; i++) data.targets[i] += additive * rng.gaussian();
    noisy.fill(1);
  }
  return noisy;
}

export function generateSynthetic(partial: Partial<SyntheticConfig> & { task: SyntheticTask }, seed: number): DataSplit {
  const given: SyntheticConfig = { ...SYNTHETIC_DEFAULTS, ...partial };
  const config: SyntheticConfig = { ...given, inputDim: syntheticInputDim(given) };
  const root = Rng.fromSeed(seed).child('data');
  const task = makeTask(config, root.child('task'));
  const shared = Float64Array.from(gaussianMatrix(root.child('shared'), 1, config.inputDim).data);
  const draw = (name: string, count: number): Dataset => {
    const rng = root.child(name);
    const inputs = sampleInputs(rng.child('inputs'), config, count, shared);
    const targets = task.label(inputs, rng.child('labels'));
    const labelled: Dataset = { inputs, targets, targetDim: 1, kind: task.kind, classes: task.classes };
    // Classes read as real targets (one-hot rows, or ±1) for the square loss, as real data's.
    return syntheticClassCount(config) !== null && config.labels === 'value' ? asValueTargets(labelled) : labelled;
  };
  const train = draw('train', config.n);
  const test = draw('test', config.nTest);
  const clean = train.targets.slice();
  const noisyTrain = applyLabelNoise(train, config.labelNoise, root.child('labelNoise'));
  if (config.labelNoise.onTest) applyLabelNoise(test, config.labelNoise, root.child('labelNoiseTest'));
  const images = imageTaskConfig(config);
  const imageShape = config.task === 'images' ? ([images.channels, images.side, images.side] as const) : undefined;
  return { train, test, noisyTrain, cleanTrainTargets: noisyTrain ? clean : null, directions: task.directions, ...(imageShape ? { imageShape } : {}) };
}
