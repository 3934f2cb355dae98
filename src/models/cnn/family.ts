/** The convolutional family as a registered value (src/models/families.ts): its layers, memory and build. */
import type { ModelData, ModelFamily } from '../families.js';
import { CnnEnsemble } from './ensemble.js';
import { compilePlan, fanInOf, hasProjection, sizeOf, type Plan, type Shape } from './plan.js';
import { cnnLayers, type CnnModelSpec } from './spec.js';

/** The image the net reads: the data's shape, else the spec's `inputShape`, else a d-channel 1×1 image. */
function inputShapeOf(config: CnnModelSpec, data: Pick<ModelData, 'inputDim' | 'imageShape'>): Shape {
  const [channels, height, width] = data.imageShape ?? config.inputShape ?? [data.inputDim, 1, 1];
  return { channels, height, width };
}

function planOf(config: CnnModelSpec, data: Pick<ModelData, 'inputDim' | 'outputDim' | 'imageShape'>): Plan {
  const input = inputShapeOf(config, data);
  if (sizeOf(input) !== data.inputDim)
    throw new Error(`model.inputShape: ${input.channels}×${input.height}×${input.width} = ${sizeOf(input)} values, the data have ${data.inputDim} per point`);
  return compilePlan(cnnLayers(config), input, data.outputDim);
}

export const cnnFamily = {
  name: 'cnn',

  /** Convolutions, dense layers, residual blocks' two convolutions and projections, then the readout. */
  layerCount(config: CnnModelSpec): number {
    let count = 1;
    let channels: number | null = config.inputShape?.[0] ?? null;
    for (const layer of cnnLayers(config)) {
      if (layer.type === 'conv' || layer.type === 'dense') count += 1;
      if (layer.type === 'residual') count += hasProjection(layer, channels) ? 3 : 2;
      if (layer.type === 'conv' || layer.type === 'residual') channels = layer.channels;
      if (layer.type === 'dense') channels = layer.units;
    }
    return count;
  },

  /**
   * Parameters held five times (weights, initial copy, gradients, two optimizer moments) and the
   * activations of one chunk of points (the model caps a chunk's values; see CnnEnsemble), plus the inputs.
   */
  memoryBytes(config: CnnModelSpec, inputDim: number, points: number): number {
    const width = config.dtype === 'float32' ? 4 : 8;
    let plan: Plan;
    try {
      plan = planOf(config, { inputDim, outputDim: 1, imageShape: config.inputShape });
    } catch {
      return 8 * points * inputDim; // a shape that does not fit is reported by problems()
    }
    const parameters = plan.convs.reduce((s, op) => s + op.output.channels * fanInOf(op), 0);
    return width * 5 * parameters + 8 * points * inputDim;
  },

  sizeOf: (config: CnnModelSpec) => ({ field: config.layers ? 'model.layers' : 'model.architecture', text: `${config.architecture ?? 'listed layers'} × width ${config.widthMultiplier}` }),

  problems(config: CnnModelSpec, data: Pick<ModelData, 'task'>): string[] {
    void data;
    const problems: string[] = [];
    const first = cnnLayers(config)[0];
    if (first?.type === 'residual' && first.shortcut === 'auto' && !config.inputShape)
      problems.push('model.layers[0].shortcut: a residual block first reads the data, whose channels are not known before it is loaded; say projection or identity');
    const layers = cnnFamily.layerCount(config);
    config.frozenLayers.forEach((l, i) => {
      if (l >= layers) problems.push(`model.frozenLayers[${i}]: must be a weight layer index in 0..${layers - 1}, got ${l}`);
    });
    if (Array.isArray(config.initScale) && config.initScale.length !== layers)
      problems.push(`model.initScale: needs one value per weight layer (${layers}), got ${config.initScale.length}`);
    return problems;
  },

  /** The channels (or units) of the last layer that has them: the features' width. */
  widthOf(config: CnnModelSpec): number | Error {
    const widths = cnnLayers(config).flatMap((l) => (l.type === 'conv' || l.type === 'residual' ? [l.channels] : l.type === 'dense' ? [l.units] : []));
    return widths.length ? widths[widths.length - 1] : new Error('needs a net with a convolution or dense layer to narrow');
  },

  /** Every layer's channels and units times the fraction (through widthMultiplier). */
  withWidthFraction: (config: CnnModelSpec, fraction: number): CnnModelSpec => ({ ...config, widthMultiplier: config.widthMultiplier * fraction }),

  build(config, members, data, device) {
    return new CnnEnsemble({ ...config, plan: planOf(config, data), outputDim: data.outputDim }, members, device);
  },
} satisfies ModelFamily<CnnModelSpec>;
