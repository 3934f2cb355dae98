import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { gzipSync } from 'node:zlib';
import { c as createTar } from 'tar';
import { DATASETS, type DatasetInfo } from '../../src/data/catalog.js';
import { downloadDataset, readDataFile } from '../../src/data/download.js';
import { CIFAR_RECORD, DataFileError, encodeCifar, encodeIdx, parseCifar, parseIdx } from '../../src/data/formats.js';
import { loadRealDataset, MissingDataError, realDataSplit, type RealDataConfig } from '../../src/data/real.js';
import { TsBackend } from '../../src/linalg/tsBackend.js';
import { parseTrialSpec } from '../../src/experiments/trialSpec.js';
import { runTrial } from '../../src/experiments/trialKinds.js';
import { bin, tempDir } from '../run/fixtures.js';

const backend = new TsBackend();

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % 251);
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DataFileError, String(e));
    return e.message;
  }
  assert.fail('expected a DataFileError');
}

describe('IDX and CIFAR-10 files', () => {
  it('reads the shipped MNIST: 60000/10000 images of 28 × 28 with the known class counts', () => {
    const { train, test } = loadRealDataset('mnist');
    assert.equal(train.labels.length, 60000);
    assert.equal(test.labels.length, 10000);
    assert.equal(train.pixels, 28 * 28);
    const counts = (labels: Uint8Array) => labels.reduce((c, v) => (c[v]++, c), new Array<number>(10).fill(0));
    assert.deepEqual(counts(train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    assert.deepEqual(counts(test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    // The first training image is a 5 with 166 inked pixels summing to 27525; the first test image a 7.
    const first = train.images.subarray(0, 784);
    assert.equal(train.labels[0], 5);
    assert.equal(first.reduce((s, v) => s + v, 0), 27525);
    assert.equal(first.filter((v) => v > 0).length, 166);
    assert.equal(test.labels[0], 7);
  });

  it('round-trips IDX files, plain and gzipped', () => {
    const data = bytes(5 * 4 * 3, 1);
    const file = encodeIdx([5, 4, 3], data);
    for (const encoded of [file, gzipSync(file)]) {
      const back = parseIdx(encoded, 'x.idx');
      assert.deepEqual(back.dims, [5, 4, 3]);
      assert.deepEqual(Buffer.from(back.data), Buffer.from(data));
    }
  });

  it('round-trips CIFAR-10 batches', () => {
    const batch = { images: bytes(3 * 3072, 2), labels: Uint8Array.of(0, 9, 4) };
    const back = parseCifar(encodeCifar(batch), 'b.bin');
    assert.deepEqual(back, batch);
  });

  it('gives each broken file its own clear error naming the file', () => {
    const good = encodeIdx([4, 2, 2], bytes(16, 3));
    const cases: [string, Uint8Array, RegExp][] = [
      ['short', good.subarray(0, 3), /too short for an IDX header/],
      ['magic', Buffer.concat([Buffer.from([1, 0]), good.subarray(2)]), /wrong magic number 0x0100/],
      ['type', Buffer.concat([Buffer.from([0, 0, 0x0d]), good.subarray(3)]), /data type 0x0d is not unsigned bytes/],
      ['rank', Buffer.concat([Buffer.from([0, 0, 8, 9]), good.subarray(4)]), /9 dimensions/],
      ['header', good.subarray(0, 10), /truncated header/],
      ['truncated', good.subarray(0, good.length - 5), /truncated: the header promises 4 × 2 × 2 = 16 bytes of data, the file has 11/],
      ['long', Buffer.concat([good, Buffer.from([1])]), /too long/],
      ['gzip', gzipSync(good).subarray(0, 20), /damaged gzip stream/],
    ];
    for (const [name, data, pattern] of cases) {
      const message = errorOf(() => parseIdx(data, `${name}.idx`));
      assert.match(message, new RegExp(`^${name}\\.idx: `));
      assert.match(message, pattern);
    }
    assert.match(errorOf(() => parseCifar(new Uint8Array(CIFAR_RECORD + 5), 'c.bin')), /^c\.bin: truncated: 3078 bytes/);
    const badLabel = encodeCifar({ images: bytes(3072, 4), labels: Uint8Array.of(12) });
    assert.match(errorOf(() => parseCifar(badLabel, 'd.bin')), /record 0 has label 12/);
    assert.match(errorOf(() => parseCifar(new Uint8Array(0), 'e.bin')), /empty/);
  });

  it('reads a gzipped CIFAR-10 batch like a plain one', () => {
    const batch = { images: bytes(2 * 3072, 5), labels: Uint8Array.of(3, 7) };
    assert.deepEqual(parseCifar(gzipSync(encodeCifar(batch)), 'b.bin.gz'), batch);
  });

  it('refuses test images of another shape than the training images, before anything runs', () => {
    const root = tempDir();
    const folder = join(root, 'kmnist');
    mkdirSync(folder);
    const labels = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), encodeIdx([40, 28, 28], bytes(40 * 784, 6)));
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), labels(40));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), encodeIdx([20, 14, 14], bytes(20 * 196, 7)));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), labels(20));
    const r = spawnSync(process.execPath, [bin, 'train', '--loss', 'crossEntropy', '--set', 'data.name=kmnist', '--n', '20', '--n-test', '10'], { encoding: 'utf8', env: { ...process.env, FEATLAB_DATA: root } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^featlab: .*t10k-images-idx3-ubyte: images of 14×14; kmnist's are 28×28\n$/);
  });

  it('refuses a 1×1-pixel "MNIST" by the shape the catalog gives, before anything runs', () => {
    const root = tempDir();
    const folder = join(root, 'kmnist');
    mkdirSync(folder);
    const labels = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), encodeIdx([40, 1, 1], bytes(40, 6)));
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), labels(40));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), encodeIdx([20, 1, 1], bytes(20, 7)));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), labels(20));
    const r = spawnSync(process.execPath, [bin, 'train', '--loss', 'crossEntropy', '--set', 'data.name=kmnist', '--n', '20', '--n-test', '10'], { encoding: 'utf8', env: { ...process.env, FEATLAB_DATA: root } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^featlab: .*train-images-idx3-ubyte: images of 1×1; kmnist's are 28×28\n$/);
  });

  it('a label file with a class the data set does not have stops train with one line naming the file', () => {
    const root = tempDir();
    const folder = join(root, 'kmnist');
    mkdirSync(folder);
    writeFileSync(join(folder, 'train-images-idx3-ubyte'), encodeIdx([20, 28, 28], bytes(20 * 784, 6)));
    writeFileSync(join(folder, 'train-labels-idx1-ubyte'), encodeIdx([20], Uint8Array.from({ length: 20 }, (_, i) => (i === 7 ? 12 : i % 10))));
    writeFileSync(join(folder, 't10k-images-idx3-ubyte'), encodeIdx([10, 28, 28], bytes(10 * 784, 7)));
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), encodeIdx([10], Uint8Array.from({ length: 10 }, (_, i) => i)));
    const r = spawnSync(process.execPath, [bin, 'train', '--loss', 'crossEntropy', '--set', 'data.name=kmnist', '--n', '10', '--n-test', '5'], { encoding: 'utf8', env: { ...process.env, FEATLAB_DATA: root } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^featlab: .*train-labels-idx1-ubyte: label 12 at index 7; kmnist has 10 classes\n$/);
  });

  it('names a data file that is a folder, a pipe or a broken link, without blocking on the pipe', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'folder-file'));
    assert.equal(spawnSync('mkfifo', [join(dir, 'pipe-file')]).status, 0);
    symlinkSync(join(dir, 'gone'), join(dir, 'link-file'));
    writeFileSync(join(dir, 'plain-file.gz'), gzipSync(Buffer.from('x')));
    assert.match(errorOf(() => readDataFile(dir, 'folder-file')), /folder-file: is a folder, not a data file/);
    assert.match(errorOf(() => readDataFile(dir, 'pipe-file')), /pipe-file: not a regular file \(a pipe or a device\)/);
    assert.match(errorOf(() => readDataFile(dir, 'link-file')), /link-file: a broken symbolic link/);
    assert.match(errorOf(() => readDataFile(dir, 'absent')), /absent: missing/);
    assert.equal(readDataFile(dir, 'plain-file').path, join(dir, 'plain-file.gz'));
  });
});

describe('real data in trials', () => {
  const config: RealDataConfig = { name: 'mnist', classes: [3, 8], n: 100, nTest: 50, perClass: true, labels: 'sign', standardize: 'global', unitNorm: false, labelNoise: { flip: 0, additive: 0, onTest: false } };

  it('subsamples the same points for the same seed and others for another', () => {
    const a = realDataSplit(config, 1, backend);
    const b = realDataSplit(config, 1, backend);
    const c = realDataSplit(config, 2, backend);
    assert.deepEqual(a.train.inputs.data, b.train.inputs.data);
    assert.notDeepEqual(a.train.inputs.data, c.train.inputs.data);
    assert.deepEqual([a.train.inputs.rows, a.train.inputs.cols, a.test.inputs.rows], [100, 784, 50]);
    assert.equal(a.train.targets.filter((y) => y === 1).length, 50, 'evenly per class');
    assert.deepEqual([...new Set(a.train.targets)].sort(), [-1, 1]);
  });

  it('centers with the training statistics, projects, and flips labels', () => {
    const s = realDataSplit({ ...config, projection: { kind: 'pca', dim: 10 }, labelNoise: { flip: 0.2, additive: 0, onTest: false } }, 3, backend);
    assert.equal(s.train.inputs.cols, 10);
    for (let j = 0; j < 10; j++) {
      let mean = 0;
      for (let i = 0; i < 100; i++) mean += s.train.inputs.data[i * 10 + j] / 100;
      assert.ok(Math.abs(mean) < 1e-9, 'centered');
    }
    assert.equal(s.noisyTrain?.reduce((a, v) => a + v, 0), 20);
    const random = realDataSplit({ ...config, projection: { kind: 'random', dim: 20 }, unitNorm: true }, 3, backend);
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(Math.hypot(...random.train.inputs.data.subarray(i * 20, (i + 1) * 20)) - 1) < 1e-12);
    const tenClasses = realDataSplit({ ...config, classes: undefined, labels: 'value', n: 50 }, 3, backend);
    assert.deepEqual([tenClasses.train.targetDim, tenClasses.train.kind], [10, 'regression']);
  });

  it('a spec asks for MNIST by name and a two-layer net separates 3 from 8', () => {
    const spec = parseTrialSpec({
      data: { name: 'mnist', classes: [3, 8], n: 200, nTest: 500, projection: { kind: 'pca', dim: 30 } },
      model: { hiddenWidths: [50] },
      training: { learningRate: 0.1, stop: { maxSteps: 300 } },
    });
    const r = runTrial(spec);
    assert.ok((r.final.testError as number) < 0.1, `test error ${r.final.testError}`);
  });

  it('a missing data set says which command fetches it and where files go', () => {
    const saved = process.env.FEATLAB_DATA;
    process.env.FEATLAB_DATA = tempDir();
    try {
      assert.throws(() => loadRealDataset('cifar10'), (e: Error) => e instanceof MissingDataError && /featlab data get cifar10/.test(e.message) && e.message.includes(process.env.FEATLAB_DATA as string));
    } finally {
      if (saved === undefined) delete process.env.FEATLAB_DATA;
      else process.env.FEATLAB_DATA = saved;
    }
  });
});

describe('featlab data get against a local server', () => {
  const served = tempDir();
  let server: Server;
  let base = '';
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  const images = encodeIdx([6, 28, 28], bytes(6 * 784, 5));
  const labels = encodeIdx([6], Uint8Array.of(0, 1, 2, 3, 4, 5));
  const testImages = encodeIdx([2, 28, 28], bytes(2 * 784, 6));
  const testLabels = encodeIdx([2], Uint8Array.of(7, 8));
  const fixture = (corrupt: boolean): DatasetInfo => ({
    ...DATASETS.mnist,
    train: [
      { name: 'train-images-idx3-ubyte', remote: 'train-images-idx3-ubyte.gz', sha256: sha(images) },
      { name: 'train-labels-idx1-ubyte', remote: 'train-labels-idx1-ubyte.gz', sha256: sha(labels) },
    ],
    test: [
      { name: 't10k-images-idx3-ubyte', remote: corrupt ? 'corrupt-images.gz' : 't10k-images-idx3-ubyte.gz', sha256: sha(testImages) },
      { name: 't10k-labels-idx1-ubyte', remote: 't10k-labels-idx1-ubyte.gz', sha256: sha(testLabels) },
    ],
  });

  before(async () => {
    writeFileSync(join(served, 'train-images-idx3-ubyte.gz'), gzipSync(images));
    writeFileSync(join(served, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
    writeFileSync(join(served, 't10k-images-idx3-ubyte.gz'), gzipSync(testImages));
    writeFileSync(join(served, 't10k-labels-idx1-ubyte.gz'), gzipSync(testLabels));
    const damaged = Buffer.from(testImages);
    damaged[500] ^= 0xff;
    writeFileSync(join(served, 'corrupt-images.gz'), gzipSync(damaged));
    // A CIFAR-10 archive in the official layout.
    mkdirSync(join(served, 'cifar-10-batches-bin'));
    for (const name of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'])
      writeFileSync(join(served, 'cifar-10-batches-bin', name), encodeCifar({ images: bytes(2 * 3072, name.length), labels: Uint8Array.of(1, 2) }));
    await createTar({ gzip: true, file: join(served, 'cifar-10-binary.tar.gz'), cwd: served }, ['cifar-10-batches-bin']);
    server = createServer((req, res) => {
      const path = join(served, (req.url ?? '/').slice(1));
      if (!existsSync(path)) {
        res.writeHead(404).end();
        return;
      }
      const body = readFileSync(path);
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('downloads, checks and stores IDX files, reporting progress', async () => {
    const folder = join(tempDir(), 'mnist');
    const seen = new Set<string>();
    await downloadDataset(fixture(false), { baseUrl: base, folder, onProgress: (file) => seen.add(file) });
    assert.deepEqual(readdirSync(folder).sort(), ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte']);
    assert.deepEqual(readFileSync(join(folder, 'train-images-idx3-ubyte')), images);
    assert.equal(seen.size, 4);
  });

  it('rejects a corrupted file by its checksum and writes nothing', async () => {
    const folder = join(tempDir(), 'mnist');
    await assert.rejects(downloadDataset(fixture(true), { baseUrl: base, folder }), (e: Error) => e instanceof DataFileError && /corrupt-images\.gz: checksum mismatch: SHA-256 [0-9a-f]{64}, expected/.test(e.message));
    assert.deepEqual(readdirSync(folder), []);
  });

  it('downloads the CIFAR-10 archive, checks its MD5 and unpacks the six batches', async () => {
    const archive = readFileSync(join(served, 'cifar-10-binary.tar.gz'));
    const md5 = createHash('md5').update(archive).digest('hex');
    const info = { ...DATASETS.cifar10, archive: { ...(DATASETS.cifar10.archive as NonNullable<DatasetInfo['archive']>), md5 } };
    const folder = join(tempDir(), 'cifar10');
    await downloadDataset(info, { baseUrl: base, folder });
    assert.equal(readdirSync(folder).filter((f) => f.endsWith('.bin')).length, 6);
    assert.deepEqual(parseCifar(readFileSync(join(folder, 'test_batch.bin')), 't').labels, Uint8Array.of(1, 2));
    const wrong = { ...info, archive: { ...info.archive, md5: '0'.repeat(32) } };
    await assert.rejects(downloadDataset(wrong, { baseUrl: base, folder: join(tempDir(), 'c2') }), /checksum mismatch: MD5/);
  });
});
