/**
 * Malformed input, each stopped at the door: exit code 2, one line on stderr naming the field (or
 * flag, or file) and what is allowed, nothing on stdout, no store and no report written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { bin, tempDir } from '../run/fixtures.js';

const base = { model: { hiddenWidths: [8] }, data: { task: 'teacher', n: 20, nTest: 10 }, training: { stop: { maxSteps: 5 } } };
const spec = (over: Record<string, unknown> = {}) => stringify({ name: 'bad', base, ...over });
const withBase = (path: string, value: unknown) => {
  const copy = structuredClone(base) as Record<string, Record<string, unknown>>;
  const [section, field] = path.split('.');
  copy[section] = { ...copy[section], [field]: value };
  return spec({ base: copy });
};
/** A spec on MNIST with the loss its labels take (two kept classes are ±1 labels). */
const mnist = (data: Record<string, unknown>) =>
  spec({ base: { ...base, data: { name: 'mnist', n: 20, nTest: 10, ...data }, training: { ...base.training, loss: Array.isArray(data.classes) && data.classes.length === 2 ? 'logistic' : 'crossEntropy' } } });
const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');

interface Row {
  readonly what: string;
  readonly args: readonly string[];
  /** Files to write in the row's folder first: name → content (null: a folder; 'fifo': a named pipe). */
  readonly files?: Record<string, string | null>;
  readonly env?: Record<string, string>;
  readonly message: RegExp;
}

const ROWS: Row[] = [
  { what: 'spec without a name', args: ['run', 's.yaml'], files: { 's.yaml': stringify({ base }) }, message: /s\.yaml: name: expected string/ },
  { what: 'name with a space', args: ['run', 's.yaml'], files: { 's.yaml': spec({ name: 'a b' }) }, message: /s\.yaml: name: letters, digits/ },
  { what: 'name of 300 characters', args: ['run', 's.yaml'], files: { 's.yaml': spec({ name: 'n'.repeat(300) }) }, message: /s\.yaml: name: Too big: expected string to have <=128 characters/ },
  { what: 'unknown top-level field', args: ['run', 's.yaml'], files: { 's.yaml': spec({ colour: 'red' }) }, message: /s\.yaml: colour: unknown field/ },
  { what: 'unknown activation', args: ['run', 's.yaml'], files: { 's.yaml': withBase('model.activation', 'relux') }, message: /base\.model\.activation: got "relux"; allowed: linear, relu/ },
  { what: 'zero width', args: ['run', 's.yaml'], files: { 's.yaml': withBase('model.hiddenWidths', [0]) }, message: /base\.model\.hiddenWidths\.0: Too small/ },
  { what: 'negative output scale', args: ['run', 's.yaml'], files: { 's.yaml': withBase('model.outputScale', -1) }, message: /base\.model\.outputScale: Too small/ },
  { what: 'init scales for three layers of a two-layer net', args: ['run', 's.yaml'], files: { 's.yaml': withBase('model.initScale', [1, 2, 3]) }, message: /^model\.initScale: 3 values for 2 weight layers/ },
  { what: 'layer learning rates of the wrong length', args: ['run', 's.yaml'], files: { 's.yaml': withBase('training.layerLearningRates', [1]) }, message: /^training\.layerLearningRates: 1 values for 2 weight layers/ },
  { what: 'frozen layer past the last', args: ['run', 's.yaml'], files: { 's.yaml': withBase('model.frozenLayers', [5]) }, message: /^model\.frozenLayers\.0: layer 5 of a net with weight layers 0 to 1/ },
  { what: 'learning rate NaN', args: ['run', 's.yaml'], files: { 's.yaml': withBase('training.learningRate', NaN) }, message: /base\.training\.learningRate: .*\(got NaN\)/ },
  { what: 'learning rate Infinity', args: ['run', 's.yaml'], files: { 's.yaml': withBase('training.learningRate', Infinity) }, message: /base\.training\.learningRate: .*\(got Infinity\)/ },
  { what: 'a grid of 10⁸ trials', args: ['run', 's.yaml'], files: { 's.yaml': spec({ sweep: { grid: { 'model.outputScale': Array.from({ length: 10_000 }, (_, i) => i + 1), seed: Array.from({ length: 10_000 }, (_, i) => i) } } }) }, message: /s\.yaml: sweep: expands to 1\.00e\+8 trials, over the limit of 100000 \(--max-trials raises it\)/ },
  { what: 'a sweep path far past a list', args: ['run', 's.yaml'], files: { 's.yaml': spec({ sweep: { grid: { 'model.hiddenWidths.100000000': [5] } } }) }, message: /s\.yaml: sweep model\.hiddenWidths\.100000000: index 100000000 is past the end of a list of 1/ },
  { what: 'an empty part in a sweep path', args: ['run', 's.yaml'], files: { 's.yaml': spec({ sweep: { grid: { 'model..outputScale': [1, 2] } } }) }, message: /s\.yaml: sweep model\.\.outputScale: a field path has no empty parts/ },
  { what: 'more MNIST points than the split has', args: ['run', 's.yaml'], files: { 's.yaml': mnist({ n: 100_000 }) }, message: /^data\.n: 100000 points asked, the training split of mnist has 60000/ },
  { what: 'more of one class than MNIST has', args: ['run', 's.yaml'], files: { 's.yaml': mnist({ classes: [5, 1], n: 12_000 }) }, message: /^data\.n: 12000 points evenly over 2 classes asks 6000 of class 5, the training split has 5421/ },
  { what: 'class 11 of MNIST', args: ['run', 's.yaml'], files: { 's.yaml': mnist({ classes: [3, 11] }) }, message: /^data\.classes\.1: mnist has classes 0 to 9, got 11/ },
  { what: 'a PCA to more dimensions than pixels', args: ['run', 's.yaml'], files: { 's.yaml': mnist({ projection: { kind: 'pca', dim: 1000 } }) }, message: /^data\.projection\.dim: 1000 is more than the 784 input features of mnist/ },
  { what: 'more test points than the split has', args: ['run', 's.yaml'], files: { 's.yaml': mnist({ nTest: 20_000 }) }, message: /^data\.nTest: 20000 points asked, the test split of mnist has 10000/ },
  { what: 'an unknown data set', args: ['run', 's.yaml'], files: { 's.yaml': mnist({ name: 'imagenet' }) }, message: /base\.data\.name: got "imagenet"; allowed: mnist/ },
  { what: 'a net too large for memory', args: ['run', 's.yaml'], files: { 's.yaml': withBase('model.hiddenWidths', [1_000_000_000]) }, message: /^model\.hiddenWidths \/ data\.n: this trial needs at least [\d.e+]+ (GiB|TiB) .* \(--max-memory GiB raises it\)/ },
  { what: 'YAML syntax error', args: ['run', 's.yaml'], files: { 's.yaml': 'name: [unclosed' }, message: /s\.yaml: YAML syntax error at line 1/ },
  { what: 'a YAML alias bomb', args: ['run', 's.yaml'], files: { 's.yaml': bomb }, message: /s\.yaml: YAML refused: Excessive alias count/ },
  { what: 'invalid JSON', args: ['run', 's.json'], files: { 's.json': '{"name": ' }, message: /s\.json: not valid JSON/ },
  { what: 'a key twice in JSON', args: ['run', 's.json'], files: { 's.json': '{"name": "a", "name": "b"}' }, message: /s\.json: Map keys must be unique/ },
  { what: 'a list as the spec', args: ['run', 's.yaml'], files: { 's.yaml': '- 1\n- 2\n' }, message: /s\.yaml: an experiment is an object with name, base, sweep and report/ },
  { what: 'a folder as the spec', args: ['run', 'folder'], files: { folder: null }, message: /folder: is a folder; a spec is a JSON or YAML file/ },
  { what: 'a named pipe as the spec (must not block)', args: ['run', 'pipe.yaml'], files: { 'pipe.yaml': 'fifo' }, message: /pipe\.yaml: not a regular file \(a pipe or a device\)/ },
  { what: 'a spec that is not there', args: ['run', 'nope.yaml'], message: /nope\.yaml: no such file/ },
  { what: 'an unknown profile', args: ['run', 's.yaml', '--profile', 'huge'], files: { 's.yaml': spec() }, message: /profile "huge" is not in this spec \(it has no profiles\)/ },
  { what: '--quick with another profile', args: ['run', 'fls', '--quick', '--profile', 'mnist'], message: /^--quick and --profile name two different profiles/ },
  { what: '--threads 0', args: ['run', 's.yaml', '--threads', '0'], files: { 's.yaml': spec() }, message: /^--threads: must be a positive integer, got "0"/ },
  { what: '--max-ensemble 0', args: ['run', 's.yaml', '--max-ensemble', '0'], files: { 's.yaml': spec() }, message: /^--max-ensemble: must be a positive integer, got "0"/ },
  { what: '--shard 3/2', args: ['run', 's.yaml', '--shard', '3/2'], files: { 's.yaml': spec() }, message: /^--shard: expected k\/N with 1 ≤ k ≤ N/ },
  { what: 'an empty --db', args: ['run', 's.yaml', '--db', ''], files: { 's.yaml': spec() }, message: /^--db: the path of a store file is needed, got an empty string/ },
  { what: 'a folder as --db', args: ['run', 's.yaml', '--db', 'folder'], files: { 's.yaml': spec(), folder: null }, message: /folder: is a folder; --db names a store file/ },
  { what: 'a text file as --db', args: ['ls', '--db', 'notes.txt'], files: { 'notes.txt': 'my notes\n' }, message: /notes\.txt: not a featlab store \(not a SQLite database\)/ },
  { what: '--max-trials 0', args: ['run', 's.yaml', '--max-trials', '0'], files: { 's.yaml': spec() }, message: /^--max-trials: must be a positive integer, got "0"/ },
  { what: '--max-memory abc', args: ['run', 's.yaml', '--max-memory', 'abc'], files: { 's.yaml': spec() }, message: /^--max-memory: a positive number of GiB, got "abc"/ },
  { what: 'train --width 1e12', args: ['train', '--width', '1e12'], message: /^model\.hiddenWidths \/ data\.n: this trial needs at least/ },
  { what: 'train --n 1e15', args: ['train', '--n', '1e15'], message: /^model\.hiddenWidths \/ data\.n: this trial needs at least/ },
  { what: 'train --set with an empty path part', args: ['train', '--set', 'model..outputScale=2'], message: /^model\.\.outputScale: a field path has no empty parts/ },
  { what: 'train --set an index of a list the flags did not give', args: ['train', '--set', 'model.hiddenWidths.99999999=5'], message: /^model\.hiddenWidths: expected array, received object/ },
  { what: 'train --config holding a list', args: ['train', '--config', 'list.json'], files: { 'list.json': '[1, 2]' }, message: /^--config: list\.json holds a list; a trial spec is an object/ },
  { what: 'train --config holding a string', args: ['train', '--config', 'text.json', '--lr', '0.1'], files: { 'text.json': '"hello"' }, message: /^--config: text\.json holds a string; a trial spec is an object/ },
  { what: 'train --lr abc', args: ['train', '--lr', 'abc'], message: /^training\.learningRate: expected number, received string \(got "abc"\)/ },
  { what: 'a minibatch larger than the training set', args: ['run', 's.yaml'], files: { 's.yaml': withBase('training.batchSize', 50) }, message: /^training\.batchSize: 50 is more than the 20 training points \(data\.n\)/ },
  { what: 'the mixture metric on another task', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, metrics: [{ name: 'mixture' }] } }) }, message: /^metrics\.0 \(mixture\): needs the gaussianMixture data task/ },
  { what: 'window stationarity on minibatches', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, training: { ...base.training, optimizer: 'sgd', batchSize: 5, stop: { windowStationarity: { meanGradient: 1e-6 } } } } }) }, message: /^training\.stop\.windowStationarity: needs full-batch steps \(optimizer gd, or adam without batchSize\), got sgd with batchSize 5/ },
  { what: 'cross-entropy on one-hot real targets', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, data: { name: 'mnist', n: 20, nTest: 10, labels: 'value' }, training: { ...base.training, loss: 'crossEntropy' } } }) }, message: /^training\.loss: "crossEntropy" needs class indices; the data gives real targets/ },
  { what: 'the logistic loss on ten classes of synthetic images', args: ['train', '--task', 'images'], message: /^training\.loss: "logistic" needs ±1 labels; the data gives class indices \(use "crossEntropy"\)/ },
  { what: 'jacobian with an absolute cutoff and no value', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, metrics: [{ name: 'jacobian', params: { cutoff: 'absolute' } }] } }) }, message: /^metrics\.0 \(jacobian\): cutoff "absolute" needs params\.absoluteCutoff/ },
  { what: 'extremal on a net with two hidden layers', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, model: { hiddenWidths: [8, 8] }, metrics: [{ name: 'extremal' }] } }) }, message: /^metrics\.0 \(extremal\): needs a two-layer fully connected net/ },
  { what: 'linearBaseline on ±1 labels', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, metrics: [{ name: 'linearBaseline' }] } }) }, message: /^metrics\.0 \(linearBaseline\): needs real-valued targets/ },
  { what: 'overfitting on real-valued targets', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, data: { ...base.data, labels: 'value' }, training: { ...base.training, loss: 'square' }, metrics: [{ name: 'overfitting' }] } }) }, message: /^metrics\.0 \(overfitting\): needs class labels/ },
  { what: 'the layers metric on a convolutional net', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, model: { family: 'cnn', layers: [{ type: 'conv', channels: 2 }] }, metrics: [{ name: 'layers' }] } }) }, message: /^metrics\.0 \(layers\): is not defined for the cnn family yet/ },
  { what: 'a convolutional net with an unknown layer type', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, model: { family: 'cnn', layers: [{ type: 'lstm' }] } } }) }, message: /base\.model\.layers\.0\.type/ },
  { what: 'teacher directions of the wrong length', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, data: { ...base.data, inputDim: 3, teacherWidth: 1, teacherDirections: [[1, 0]] } } }) }, message: /^data\.teacherDirections\.0: has 2 entries, data\.inputDim is 3/ },
  { what: 'more teacher directions than teacher neurons', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, data: { ...base.data, inputDim: 2, teacherWidth: 1, teacherDirections: [[1, 0], [0, 1]] } } }) }, message: /^data\.teacherDirections: 2 directions for data\.teacherWidth 1/ },
  { what: 'neuron references of the wrong dimension', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, data: { ...base.data, inputDim: 3 }, metrics: [{ name: 'neurons', params: { references: [[1, 0]] } }] } }) }, message: /^metrics\.0 \(neurons\): params\.references\.0: has 2 entries, the inputs have 3/ },
  { what: 'two parts with one name', args: ['run', 's.yaml'], files: { 's.yaml': spec({ parts: [{ name: 'a' }, { name: 'a' }] }) }, message: /s\.yaml: parts: two parts share a name \(a\)/ },
  { what: 'one path in both grid and zip', args: ['run', 's.yaml'], files: { 's.yaml': spec({ sweep: { grid: { seed: [1, 2] }, zip: { seed: [3, 4] } } }) }, message: /sweep: seed is both a grid axis and a zip axis/ },
  { what: 'the data folder\'s mnist is a file (no silent fall back to the packaged copy)', args: ['run', 's.yaml'], files: { data: null, 'data/mnist': 'not a folder', 's.yaml': mnist({}) }, env: { FEATLAB_DATA: 'data' }, message: /data\/mnist: not a folder; the data set needs a folder of its files here/ },
  { what: 'a comparison of a billion narrow copies (widthFraction 1e-9)', args: ['run', 's.yaml'], files: { 's.yaml': spec({ base: { ...base, comparison: { widthFraction: 1e-9 } } }) }, message: /^model\.hiddenWidths \/ data\.n: this trial needs at least .* TiB .*--max-memory GiB raises it/ },
  { what: 'train --lr 0x10 (hexadecimal)', args: ['train', '--lr', '0x10'], message: /^training\.learningRate: expected number, received string \(got "0x10"\)/ },
  { what: 'train --width with a space', args: ['train', '--width', ' 10'], message: /^model\.hiddenWidths\.0: expected number, received string \(got " 10"\)/ },
  { what: 'train --depth 0b11 (binary)', args: ['train', '--depth', '0b11'], message: /^--depth: must be a positive integer \(number of hidden layers\), got "0b11"/ },
  { what: 'a field name carrying terminal escapes (an OSC 52 clipboard write, colour)', args: ['run', 's.yaml'], files: { 's.yaml': spec({ '\u001b]52;c;aGk=\u0007\u001b[31m': 1 }) }, message: /^s\.yaml: \\u001b\]52;c;aGk=\\u0007\\u001b\[31m: unknown field$/ },
  { what: 'a field name with a right-to-left override', args: ['run', 's.yaml'], files: { 's.yaml': spec({ 'ab\u202ecd': 1 }) }, message: /^s\.yaml: ab\\u202ecd: unknown field$/ },
  { what: 'train --loss nope', args: ['train', '--loss', 'nope'], message: /option '--loss <name>' argument 'nope' is invalid\. Allowed choices are logistic, square, crossEntropy/ },
  { what: 'FEATLAB_BACKEND=bogus', args: ['train', '--max-steps', '1'], env: { FEATLAB_BACKEND: 'bogus' }, message: /^FEATLAB_BACKEND must be one of ts, native, got "bogus"/ },
  { what: 'slurm --mem 4X', args: ['slurm', 's.yaml', '--mem', '4X', '--dry-run'], files: { 's.yaml': spec() }, message: /^--mem: a size like 4G/ },
  { what: 'slurm --time soon', args: ['slurm', 's.yaml', '--time', 'soon', '--dry-run'], files: { 's.yaml': spec() }, message: /^--time: a Slurm time limit like 90/ },
  { what: 'slurm status of a folder that is no job', args: ['slurm', 'status', 'folder'], files: { folder: null }, message: /folder: not a featlab Slurm job folder \(no job\.json\)/ },
  { what: 'export to a missing folder', args: ['export', 'bad', '--db', 'ok.db', '-o', 'missing/x.csv'], message: /missing\/x\.csv: no such file or folder/ },
  { what: 'report over an existing file', args: ['report', 'bad', '--db', 'ok.db', '--out', 'taken'], files: { taken: 'keep me\n' }, message: /taken: already exists/ },
  { what: 'merge of a foreign file', args: ['merge', 'notes.txt', '--db', 'merged.db'], files: { 'notes.txt': 'my notes\n' }, message: /notes\.txt: not a featlab store/ },
];

describe('malformed input: exit 2, one line naming the field, nothing written', () => {
  const root = tempDir();
  const okStore = join(root, 'ok.db');

  before(() => {
    // A store with one small experiment, for the rows that need one to exist.
    writeFileSync(join(root, 'ok.yaml'), spec());
    const r = spawnSync(process.execPath, [bin, 'run', join(root, 'ok.yaml'), '--db', okStore, '--quiet', '--no-report'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it(`has at least 40 rows (${ROWS.length})`, () => assert.ok(ROWS.length >= 40));

  for (const [i, row] of ROWS.entries())
    it(row.what, () => {
      const dir = join(root, `row${i}`);
      mkdirSync(dir);
      for (const [name, content] of Object.entries(row.files ?? {})) {
        if (content === null) mkdirSync(join(dir, name));
        else if (content === 'fifo') assert.equal(spawnSync('mkfifo', [join(dir, name)]).status, 0);
        else writeFileSync(join(dir, name), content);
      }
      if (row.args.includes('ok.db')) copyFileSync(okStore, join(dir, 'ok.db'));
      const before = new Set(readdirSync(dir));
      const r = spawnSync(process.execPath, [bin, ...row.args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...row.env }, timeout: 30_000 });
      assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
      const lines = r.stderr.split('\n').filter((l) => l !== '' && !/native backend not available/.test(l));
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.match(lines[0], /^(featlab: |error: )/);
      assert.match(lines[0].replace(/^featlab: /, ''), row.message);
      assert.equal(r.stdout, '');
      const after = readdirSync(dir).filter((f) => !before.has(f));
      assert.deepEqual(after, [], 'nothing written');
    });
});

describe('a spec with thousands of problems', () => {
  it('prints 20 lines and how many more, exit 2', () => {
    const dir = tempDir();
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`unknown${i}`, i]));
    writeFileSync(join(dir, 's.json'), JSON.stringify({ name: 'many', base, ...many }));
    const r = spawnSync(process.execPath, [bin, 'run', 's.json'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('featlab: '));
    assert.equal(lines.length, 21);
    assert.match(lines[0], /unknown0: unknown field/);
    assert.equal(lines[20], 'featlab: … and 4980 more problems');
    assert.deepEqual(readdirSync(dir), ['s.json'], 'nothing written');
  });
});

// A JSON spec saved with a byte-order mark is read like any other.
describe('spec files as editors save them', () => {
  it('a .json spec with a UTF-8 BOM runs', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bom.json'), `\ufeff${JSON.stringify({ name: 'bom', base })}`);
    const r = spawnSync(process.execPath, [bin, 'run', 'bom.json', '--db', 'b.db', '--quiet', '--no-report'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'b.db')));
  });
});
