/** The MLP family as a registered value (src/models/families.ts): its layers, memory and build. */
import type { ModelData, ModelFamily } from '../families.js';
import { effectiveInputNorm, placeAtEffectivePoint } from './effectivePoint.js';
import { MlpEnsemble } from './ensemble.js';
import type { MlpModelSpec } from './spec.js';

export const mlpFamily = {
  name: 'mlp',

  layerCount: (config: MlpModelSpec) => config.hiddenWidths.length + 1,

  /**
   * Parameters held five times (weights, initial copy, gradients, two optimizer moments), three
   * activation buffers per hidden unit for the training and test points, and the inputs.
   */
  memoryBytes(config: MlpModelSpec, inputDim: number, points: number): number {
    const width = config.dtype === 'float32' ? 4 : 8;
    const widths = [inputDim, ...config.hiddenWidths, 1];
    let parameters = 0;
    for (let l = 0; l + 1 < widths.length; l++) parameters += widths[l] * widths[l + 1];
    const hidden = config.hiddenWidths.reduce((a, b) => a + b, 0);
    return width * (5 * parameters + 3 * points * hidden) + 8 * points * inputDim;
  },

  /** The knob that sets its size, for the memory limit's message. */
  sizeOf: (config: MlpModelSpec) => ({ field: 'model.hiddenWidths', text: `widths ${config.hiddenWidths.join(', ')}` }),

  problems(config: MlpModelSpec, data: Pick<ModelData, 'task'>): string[] {
    const problems: string[] = [];
    const point = config.effectiveInit;
    if (!point) return problems;
    const layers = config.hiddenWidths.length + 1;
    if (data.task !== 'line1d') problems.push(`model.effectiveInit: needs data.task line1d (inputs along one direction), got ${data.task}`);
    if (layers !== 2) problems.push(`model.effectiveInit: needs one hidden layer (model.hiddenWidths of length 1), got ${layers - 1}`);
    if (config.bias) problems.push('model.effectiveInit: needs model.bias: false');
    if (config.hiddenWidths[0] === 1 && Math.abs(point.alignment) !== 1) problems.push('model.effectiveInit.alignment: a net of width 1 has alignment −1 or 1 only');
    return problems;
  },

  widthOf: (config: MlpModelSpec) => (config.hiddenWidths.length === 1 ? config.hiddenWidths[0] : new Error('needs a net with one hidden layer (model.hiddenWidths of length 1)')),

  withWidthFraction: (config: MlpModelSpec, fraction: number): MlpModelSpec => ({ ...config, hiddenWidths: config.hiddenWidths.map((w) => Math.max(1, Math.round(fraction * w))) }),

  build(config, members, data, device) {
    const model = new MlpEnsemble(
      {
        inputDim: data.inputDim,
        hiddenWidths: config.hiddenWidths,
        outputDim: data.outputDim,
        activation: config.activation,
        leak: config.leak,
        parametrization: config.parametrization,
        bias: config.bias,
        init: config.init,
        centerOutput: config.centerOutput,
        frozenLayers: config.frozenLayers,
        dtype: config.dtype,
      },
      members,
      device,
    );
    const point = config.effectiveInit;
    if (point) {
      const e = data.directions;
      if (data.task !== 'line1d' || !e || e.rows !== 1) throw new Error('model.effectiveInit: needs data.task line1d (inputs along one direction)');
      const inputNorm = effectiveInputNorm(data.trainInputs, e.data);
      members.forEach((member, k) => placeAtEffectivePoint(model, k, e.data, inputNorm, point, member.seed));
    }
    return model;
  },
} satisfies ModelFamily<MlpModelSpec>;
