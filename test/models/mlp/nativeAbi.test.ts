/**
 * native/abi.json against both sides: its code lists are TypeScript's, the header the addon was built
 * from is the one the table gives, and the addon refuses what the table does not allow (an unknown
 * field, a missing one, one of the wrong kind, an unknown code) instead of reading a default.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ACTIVATIONS, LOSSES } from '../../../src/linalg/elementwise.js';
import { createBackend } from '../../../src/linalg/index.js';
import { ABI_FIELDS_AGREE } from '../../../src/models/mlp/nativeAbi.js';
import { MlpEnsemble, type MlpTrainControl } from '../../../src/models/mlp/index.js';
import { nativeMlpKernels, NativeMlpKernels } from '../../../src/models/mlp/nativeKernels.js';
import { buildData, buildModel, trainingConfig } from '../../../src/experiments/trial.js';
import { trainEnsemble } from '../../../src/train/trainer.js';
import { parseTrialSpec } from '../../../src/experiments/trialSpec.js';
import { nativeSkip } from '../../nativeAvailability.js';
import { asMlp, member, smallConfig } from '../fixtures.js';

const root = new URL('../../../../', import.meta.url);
const table = JSON.parse(readFileSync(new URL('native/abi.json', root), 'utf8')) as { codes: Record<string, string[]>; objects: Record<string, Record<string, unknown>> };

describe('the native ABI table', () => {
  it('lists the activations and losses in the order TypeScript names them', () => {
    assert.deepEqual(table.codes.activation, [...ACTIVATIONS]);
    assert.deepEqual(table.codes.loss, [...LOSSES]);
    assert.deepEqual(ABI_FIELDS_AGREE, [true, true, true, true]);
  });

  const header = new URL('native/abi.generated.h', root);
  it('is the table the addon was built from', { skip: existsSync(header) ? false : 'the addon has not been built here (no native/abi.generated.h)' }, async () => {
    const { abiHeader } = (await import(new URL('scripts/native-abi.mjs', root).href)) as { abiHeader: (t: unknown) => string };
    assert.equal(readFileSync(header, 'utf8'), abiHeader(table), 'native/abi.generated.h is stale: rebuild with npm run build:native');
  });
});

const loaded = createBackend('native');
describe('the addon refuses what the table does not allow', { skip: nativeSkip(loaded) }, () => {
  if (loaded instanceof Error) return;
  const kernels = nativeMlpKernels(loaded);
  if (kernels instanceof Error) throw kernels;
  const addon = kernels.addon;
  const model = new MlpEnsemble(smallConfig({ hiddenWidths: [4] }), [member(1)], loaded);
  const evaluation = { inputs: new Float64Array(6), n: 2, offsets: null, active: null };
  const forward = (batch: object, ev: object = evaluation) => addon.mlpRun(batch as never, ev as never, null, null, new Float64Array(2), null, null);

  it('runs the batch as the model builds it', () => {
    forward(model.batch);
  });
  it('an unknown field, a missing one, one of the wrong kind, an unknown code', () => {
    assert.throws(() => forward({ ...model.batch, leakyness: 0.1 }), /batch has a field "leakyness" that native\/abi.json does not list/);
    const { leak: _leak, ...withoutLeak } = model.batch;
    assert.throws(() => forward(withoutLeak), /batch\.leak is missing/);
    assert.throws(() => forward({ ...model.batch, multipliers: [1, 1] }), /batch\.multipliers is not of kind/);
    assert.throws(() => forward({ ...model.batch, activation: 'softsign' }), /batch\.activation .*unknown code/);
    assert.throws(() => forward(model.batch, { ...evaluation, offsets: undefined }), /evaluation\.offsets is missing/);
    assert.throws(() => addon.mlpRun(model.batch, evaluation, 'hinge' as never, new Float64Array(2), new Float64Array(2), new Float64Array(1), model.allocateGradients()), /not one of native\/abi.json's codes.loss/);
  });
  it("a training call's control with a field the table does not list, or without one it lists", () => {
    const spec = parseTrialSpec({ data: { n: 20, nTest: 5 }, model: { hiddenWidths: [4] }, training: { stop: { maxSteps: 5 } } });
    const split = buildData(spec, loaded);
    for (const [edit, message] of [
      [(c: MlpTrainControl) => ({ ...c, momentum: 0.9 }), /control has a field "momentum"/],
      [({ targetDim: _targetDim, ...c }: MlpTrainControl) => c, /control\.targetDim is missing/],
      [(c: MlpTrainControl) => ({ ...c, misfitKind: 'nearly' }), /control\.misfitKind .*unknown code/],
    ] as const) {
      const edited = new NativeMlpKernels({ ...addon, mlpTrain: (b, e, l, t, o, ls, g, c) => addon.mlpTrain(b, e, l, t, o, ls, g, edit(c) as never) });
      const built = asMlp(buildModel(spec, split, [{}], loaded));
      const model = new MlpEnsemble(built.config, built.members, loaded, edited);
      assert.throws(() => trainEnsemble(model, split, trainingConfig(spec), { seed: 0 }), message);
    }
  });
});
