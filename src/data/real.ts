/**
 * Real data sets as trials see them: a class subset, n training points drawn with the trial's seed
 * (evenly per class by default), the official test split, pixels scaled to [0, 1], then centering
 * and scaling with the training statistics, an optional random projection or PCA, label noise.
 */
import { type Matrix, zeros } from '../linalg/matrix.js';
import { Rng } from '../linalg/rng.js';
import type { Backend } from '../linalg/backend.js';
import { DATASETS, type DatasetInfo, locate, cacheFolder } from './catalog.js';
import type { RealDataset } from './realDatasetNames.js';
import { asValueTargets, type DataSplit, type Dataset } from './dataset.js';
import { readDataFile } from './download.js';
import { DataFileError, parseCifar, parseIdx } from './formats.js';
import { applyLabelNoise } from './synthetic.js';

export interface RealDataConfig {
  readonly name: RealDataset;
  /** Class indices to keep (all when absent); two classes become ±1 labels (first −1, second +1). */
  readonly classes?: readonly number[];
  readonly n: number;
  /** Test points drawn from the official test split (0: all of the kept classes). */
  readonly nTest: number;
  /** Draw n/k points of each of the k classes (true) or n points at random (false). */
  readonly perClass: boolean;
  /** "sign": ±1 or class indices; "value": ±1 or one-hot rows as real targets (for the square loss). */
  readonly labels: 'sign' | 'value';
  /** none; center (subtract the training mean); global (center, then divide by one overall std). */
  readonly standardize: 'none' | 'center' | 'global';
  readonly projection?: { readonly kind: 'random' | 'pca'; readonly dim: number };
  /** Scale every input to unit norm (after the rest). */
  readonly unitNorm: boolean;
  readonly labelNoise: { readonly flip: number; readonly additive: number; readonly onTest: boolean };
}

export class MissingDataError extends Error {
  constructor(readonly dataset: RealDataset) {
    const info = DATASETS[dataset];
    super(
      `data.name: ${info.title} is not on this machine. Fetch it with \`featlab data get ${dataset}\`, or put the files (${[...info.train, ...info.test].map((f) => f.name).join(', ')}, plain or .gz) in ${cacheFolder(dataset)}`,
    );
    this.name = 'MissingDataError';
  }
}

interface RawSplit {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly pixels: number;
}

const loaded = new Map<string, { train: RawSplit; test: RawSplit }>();

function readSplit(info: DatasetInfo, folder: string, files: DatasetInfo['train']): RawSplit {
  if (info.format === 'cifar') {
    const batches = files.map((f) => {
      const { bytes, path } = readDataFile(folder, f.name);
      return parseCifar(bytes, path);
    });
    const n = batches.reduce((s, b) => s + b.labels.length, 0);
    const images = new Uint8Array(n * 3072);
    const labels = new Uint8Array(n);
    let offset = 0;
    for (const b of batches) {
      images.set(b.images, offset * 3072);
      labels.set(b.labels, offset);
      offset += b.labels.length;
    }
    return { images, labels, pixels: 3072 };
  }
  const [imageFile, labelFile] = files;
  const imagesRead = readDataFile(folder, imageFile.name);
  const labelsRead = readDataFile(folder, labelFile.name);
  const images = parseIdx(imagesRead.bytes, imagesRead.path);
  const labels = parseIdx(labelsRead.bytes, labelsRead.path);
  if (labels.dims.length !== 1) throw new DataFileError(labelsRead.path, `a label file has one dimension, this one ${labels.dims.length}`);
  if (images.dims[0] !== labels.dims[0]) throw new DataFileError(imagesRead.path, `${images.dims[0]} images but ${labels.dims[0]} labels in ${labelsRead.path}`);
  // One channel: the files hold height × width per image, as the catalog says (a 1×1 "MNIST" is not MNIST).
  const [, height, width] = info.imageShape;
  const shape = images.dims.slice(1);
  if (shape.length !== 2 || shape[0] !== height || shape[1] !== width)
    throw new DataFileError(imagesRead.path, `images of ${shape.join('×') || 'no pixels'}; ${info.name}'s are ${height}×${width}`);
  const classes = info.classes.length;
  for (let i = 0; i < labels.data.length; i++)
    if (labels.data[i] >= classes) throw new DataFileError(labelsRead.path, `label ${labels.data[i]} at index ${i}; ${info.name} has ${classes} classes`);
  return { images: images.data, labels: labels.data, pixels: images.dims.slice(1).reduce((a, b) => a * b, 1) };
}

/** The decoded files of a data set (cached for the process). */
export function loadRealDataset(name: RealDataset): { train: RawSplit; test: RawSplit; info: DatasetInfo } {
  const info = DATASETS[name];
  const folder = locate(info);
  if (!folder) throw new MissingDataError(name);
  const key = `${name}@${folder}`;
  let data = loaded.get(key);
  if (!data) {
    data = { train: readSplit(info, folder, info.train), test: readSplit(info, folder, info.test) };
    if (data.test.pixels !== data.train.pixels)
      throw new DataFileError(folder, `the test images of ${info.name} have ${data.test.pixels} values each, the training images ${data.train.pixels}: the files do not belong together`);
    loaded.set(key, data);
  }
  return { ...data, info };
}

/** Indices of the kept classes, drawn with the stream: n in all, evenly per class if asked. */
function sample(labels: Uint8Array, classes: readonly number[], n: number, perClass: boolean, rng: Rng): number[] {
  const byClass = classes.map((c) => {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) idx.push(i);
    return idx;
  });
  if (n === 0) return byClass.flat().sort((a, b) => a - b);
  const pick = (pool: number[], count: number, name: string) => {
    if (count > pool.length) throw new Error(`data.n: asks for ${count} points of ${name}, the split has ${pool.length}`);
    const order = rng.permutation(pool.length);
    return Array.from(order.subarray(0, count), (i) => pool[i]);
  };
  if (!perClass) return pick(byClass.flat(), n, 'the kept classes').sort((a, b) => a - b);
  const base = Math.floor(n / classes.length);
  return classes
    .flatMap((c, k) => pick(byClass[k], base + (k < n % classes.length ? 1 : 0), `class ${c}`))
    .sort((a, b) => a - b);
}

function toDataset(raw: RawSplit, indices: readonly number[], classes: readonly number[], labels: 'sign' | 'value'): Dataset {
  const d = raw.pixels;
  const inputs = zeros(indices.length, d);
  indices.forEach((src, row) => {
    for (let j = 0; j < d; j++) inputs.data[row * d + j] = raw.images[src * d + j] / 255;
  });
  const k = classes.length;
  const classOf = (i: number) => classes.indexOf(raw.labels[indices[i]]);
  const read: Dataset =
    k === 2
      ? { inputs, targets: Float64Array.from(indices, (_, i) => (classOf(i) === 0 ? -1 : 1)), targetDim: 1, kind: 'binary', classes: 2 }
      : { inputs, targets: Float64Array.from(indices, (_, i) => classOf(i)), targetDim: 1, kind: 'classes', classes: k };
  return labels === 'value' ? asValueTargets(read) : read;
}

function transform(m: Matrix, f: (row: Float64Array) => Float64Array, cols: number): Matrix {
  const out = zeros(m.rows, cols);
  for (let i = 0; i < m.rows; i++) out.data.set(f(m.data.subarray(i * m.cols, (i + 1) * m.cols) as Float64Array), i * cols);
  return out;
}

/**
 * What realDataSplit would refuse, found before anything runs: class indices, n and nTest against the
 * points each kept class has, the projection's dimension against the input features, and train and
 * test images of one shape. Reads the files (cached for the process) but draws nothing.
 */
export function realDataProblems(config: Pick<RealDataConfig, 'name' | 'classes' | 'n' | 'nTest' | 'perClass' | 'projection'>): string[] {
  let data: ReturnType<typeof loadRealDataset>;
  try {
    data = loadRealDataset(config.name);
  } catch (e) {
    return [(e as Error).message];
  }
  const { train, test, info } = data;
  const problems: string[] = [];
  const classes = config.classes ?? info.classes.map((_, i) => i);
  const bad = classes.map((c, i) => ({ c, i })).filter(({ c }) => !Number.isInteger(c) || c < 0 || c >= info.classes.length);
  for (const { c, i } of bad) problems.push(`data.classes.${i}: ${info.name} has classes 0 to ${info.classes.length - 1}, got ${c}`);
  if (bad.length) return problems;
  const counts = (labels: Uint8Array) => classes.map((c) => labels.reduce((a, l) => a + (l === c ? 1 : 0), 0));
  const trainCounts = counts(train.labels);
  const available = trainCounts.reduce((a, b) => a + b, 0);
  if (config.n > available) problems.push(`data.n: ${config.n} points asked, the training split of ${info.name} has ${available} in the kept classes`);
  else if (config.perClass && config.n > 0) {
    const base = Math.floor(config.n / classes.length);
    classes.forEach((c, k) => {
      const want = base + (k < config.n % classes.length ? 1 : 0);
      if (want > trainCounts[k]) problems.push(`data.n: ${config.n} points evenly over ${classes.length} classes asks ${want} of class ${c}, the training split has ${trainCounts[k]} (perClass: false draws at random)`);
    });
  }
  const testAvailable = counts(test.labels).reduce((a, b) => a + b, 0);
  if (config.nTest > testAvailable) problems.push(`data.nTest: ${config.nTest} points asked, the test split of ${info.name} has ${testAvailable} in the kept classes`);
  if (test.pixels !== train.pixels) problems.push(`data.name: the test images of ${info.name} have ${test.pixels} values each, the training images ${train.pixels}: the files do not belong together`);
  if (config.projection && config.projection.dim > train.pixels) problems.push(`data.projection.dim: ${config.projection.dim} is more than the ${train.pixels} input features of ${info.name}`);
  return problems;
}

export function realDataSplit(config: RealDataConfig, seed: number, backend: Backend): DataSplit {
  const { train: rawTrain, test: rawTest, info } = loadRealDataset(config.name);
  const classes = config.classes ?? info.classes.map((_, i) => i);
  classes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= info.classes.length) throw new Error(`data.classes.${i}: ${info.name} has classes 0 to ${info.classes.length - 1}, got ${c}`);
  });
  const root = Rng.fromSeed(seed).child('data');
  let train = toDataset(rawTrain, sample(rawTrain.labels, classes, config.n, config.perClass, root.child('train')), classes, config.labels);
  let test = toDataset(rawTest, sample(rawTest.labels, classes, config.nTest, false, root.child('test')), classes, config.labels);

  // Statistics of the training inputs only.
  const d = train.inputs.cols;
  if (config.standardize !== 'none') {
    const mean = new Float64Array(d);
    for (let i = 0; i < train.inputs.rows; i++) for (let j = 0; j < d; j++) mean[j] += train.inputs.data[i * d + j] / train.inputs.rows;
    let variance = 0;
    for (let i = 0; i < train.inputs.rows; i++) for (let j = 0; j < d; j++) variance += (train.inputs.data[i * d + j] - mean[j]) ** 2;
    const scale = config.standardize === 'global' ? 1 / Math.sqrt(Math.max(variance / (train.inputs.rows * d), 1e-12)) : 1;
    const apply = (row: Float64Array) => Float64Array.from(row, (v, j) => (v - mean[j]) * scale);
    train = { ...train, inputs: transform(train.inputs, apply, d) };
    test = { ...test, inputs: transform(test.inputs, apply, d) };
  }
  if (config.projection) {
    const { kind, dim } = config.projection;
    if (dim > d) throw new Error(`data.projection.dim: ${dim} is more than the ${d} input features`);
    let basis: Float64Array; // d × dim
    if (kind === 'random') {
      const rng = root.child('projection');
      basis = Float64Array.from({ length: d * dim }, () => rng.gaussian() / Math.sqrt(dim));
    } else {
      // Top principal directions of the training inputs.
      const x = train.inputs;
      const cov = new Float64Array(d * d);
      backend.gemm(true, false, d, d, x.rows, 1 / x.rows, x.data, x.data, 0, cov);
      const { vectors } = backend.symmetricEigen(cov, d);
      basis = new Float64Array(d * dim);
      for (let r = 0; r < d; r++) for (let c = 0; c < dim; c++) basis[r * dim + c] = vectors[r * d + (d - 1 - c)];
    }
    const project = (row: Float64Array) => {
      const out = new Float64Array(dim);
      for (let r = 0; r < d; r++) if (row[r] !== 0) for (let c = 0; c < dim; c++) out[c] += row[r] * basis[r * dim + c];
      return out;
    };
    train = { ...train, inputs: transform(train.inputs, project, dim) };
    test = { ...test, inputs: transform(test.inputs, project, dim) };
  }
  if (config.unitNorm) {
    const normalize = (row: Float64Array) => {
      const norm = Math.hypot(...row);
      return norm > 0 ? row.map((v) => v / norm) : row.slice();
    };
    const cols = train.inputs.cols;
    train = { ...train, inputs: transform(train.inputs, normalize, cols) };
    test = { ...test, inputs: transform(test.inputs, normalize, cols) };
  }
  const noise = { ...config.labelNoise };
  const clean = train.targets.slice();
  const noisyTrain = applyLabelNoise(train, noise, root.child('labelNoise'));
  if (noise.onTest) applyLabelNoise(test, noise, root.child('labelNoiseTest'));
  // A projection mixes the pixels: what is left is a vector, not an image.
  const imageShape = config.projection ? undefined : info.imageShape;
  return { train, test, noisyTrain, cleanTrainTargets: noisyTrain ? clean : null, directions: null, imageShape };
}
