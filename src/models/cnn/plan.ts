/**
 * A convolutional net's layers compiled against its input's shape: the sequence of operations with the
 * shape each reads and writes, and the weight layers (convolutions, dense layers as 1×1 convolutions
 * of the flattened image, the readout last) in the order of the parameter slots.
 */
import type { CnnLayer } from './spec.js';

/** One sample's image, stored channels-last (height, width, channel), so a row of it is one position. */
export interface Shape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export const sizeOf = (s: Shape): number => s.channels * s.height * s.width;

/** A weight layer: a convolution with a square kernel; its weights are C_out × (k·k·C_in), fan-in ordered (row, column, channel). */
export interface ConvOp {
  readonly kind: 'conv';
  readonly layer: number;
  readonly input: Shape;
  readonly output: Shape;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

export type Op =
  | ConvOp
  | { readonly kind: 'activation'; readonly input: Shape; readonly output: Shape }
  | { readonly kind: 'pool'; readonly pool: 'max' | 'avg'; readonly input: Shape; readonly output: Shape; readonly size: number; readonly stride: number }
  | { readonly kind: 'globalAvgPool'; readonly input: Shape; readonly output: Shape }
  | { readonly kind: 'residual'; readonly input: Shape; readonly output: Shape; readonly branch: readonly Op[]; readonly shortcut: readonly Op[] };

export interface Plan {
  readonly ops: readonly Op[];
  /** Every weight layer, in slot order; the readout is the last. */
  readonly convs: readonly ConvOp[];
  readonly input: Shape;
  /** The representation the readout reads (the features of the penultimate layer). */
  readonly features: Shape;
}

export const fanInOf = (op: ConvOp): number => op.kernel * op.kernel * op.input.channels;

/** A residual block's shortcut is a 1×1 convolution when asked, or (auto) when the block changes the shape. */
export function hasProjection(block: Extract<CnnLayer, { type: 'residual' }>, inputChannels: number | null): boolean {
  const keeps = block.stride === 1 && block.channels === inputChannels;
  return block.shortcut === 'projection' || (block.shortcut === 'auto' && !keeps);
}

/** The plan, or throws naming the layer whose shape does not fit. */
export function compilePlan(layers: readonly CnnLayer[], input: Shape, outputDim: number): Plan {
  const convs: ConvOp[] = [];
  const conv = (at: Shape, channels: number, kernel: number, stride: number, padding: number, where: string): ConvOp => {
    const height = Math.floor((at.height + 2 * padding - kernel) / stride) + 1;
    const width = Math.floor((at.width + 2 * padding - kernel) / stride) + 1;
    if (height < 1 || width < 1) throw new Error(`${where}: a ${kernel}×${kernel} kernel with padding ${padding} does not fit a ${at.height}×${at.width} image`);
    const op: ConvOp = { kind: 'conv', layer: convs.length, input: at, output: { channels, height, width }, kernel, stride, padding };
    convs.push(op);
    return op;
  };
  const activation = (at: Shape): Op => ({ kind: 'activation', input: at, output: at });
  const ops: Op[] = [];
  let shape = input;
  layers.forEach((layer, i) => {
    const where = `model.layers[${i}]`;
    switch (layer.type) {
      case 'conv': {
        const padding = layer.padding === 'same' ? Math.floor(layer.kernel / 2) : layer.padding;
        const op = conv(shape, layer.channels, layer.kernel, layer.stride, padding, where);
        ops.push(op, activation(op.output));
        shape = op.output;
        break;
      }
      case 'pool': {
        const stride = layer.stride ?? layer.size;
        const height = Math.floor((shape.height - layer.size) / stride) + 1;
        const width = Math.floor((shape.width - layer.size) / stride) + 1;
        if (height < 1 || width < 1) throw new Error(`${where}: a ${layer.size}×${layer.size} pool does not fit a ${shape.height}×${shape.width} image`);
        const output = { channels: shape.channels, height, width };
        ops.push({ kind: 'pool', pool: layer.kind, input: shape, output, size: layer.size, stride });
        shape = output;
        break;
      }
      case 'globalAvgPool': {
        const output = { channels: shape.channels, height: 1, width: 1 };
        ops.push({ kind: 'globalAvgPool', input: shape, output });
        shape = output;
        break;
      }
      case 'dense': {
        const op = conv(flattened(shape), layer.units, 1, 1, 0, where);
        ops.push(op, activation(op.output));
        shape = op.output;
        break;
      }
      case 'residual': {
        const first = conv(shape, layer.channels, 3, layer.stride, 1, where);
        const second = conv(first.output, layer.channels, 3, 1, 1, where);
        if (layer.shortcut === 'identity' && (layer.stride !== 1 || layer.channels !== shape.channels))
          throw new Error(`${where}.shortcut: identity needs stride 1 and ${shape.channels} channels (the block's input), got stride ${layer.stride} and ${layer.channels}`);
        const shortcut = hasProjection(layer, shape.channels) ? [conv(shape, layer.channels, 1, layer.stride, 0, where)] : [];
        const output = second.output;
        if (shortcut.length && (shortcut[0].output.height !== output.height || shortcut[0].output.width !== output.width))
          throw new Error(`${where}: the shortcut gives ${shortcut[0].output.height}×${shortcut[0].output.width}, the block ${output.height}×${output.width}`);
        ops.push({ kind: 'residual', input: shape, output, branch: [first, activation(first.output), second], shortcut }, activation(output));
        shape = output;
        break;
      }
    }
  });
  const features = shape;
  const readout = conv(flattened(shape), outputDim, 1, 1, 0, 'the readout');
  ops.push(readout);
  return { ops, convs, input, features };
}

/** A dense layer reads the image as one position of all its values (channels-last, the same bytes). */
function flattened(s: Shape): Shape {
  return { channels: sizeOf(s), height: 1, width: 1 };
}
