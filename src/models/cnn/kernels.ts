/**
 * The convolutional family's kernels per device: gathering patches into rows (im2col) and its adjoint.
 * The `ts` versions (imageOps.ts) run on any device; the native device's addon has its own
 * (native/cnn_kernels.h), threaded over the images.
 */
import type { Backend } from '../../linalg/backend.js';
import type { FloatArray } from '../../linalg/matrix.js';
import { NativeBackend } from '../../linalg/nativeBackend.js';
import type table from '../../../native/abi.json';
import { col2im, im2col, poolBackward, poolForward } from './imageOps.js';
import { type Activation, applyActivation } from '../../linalg/elementwise.js';
import type { ConvOp, Shape } from './plan.js';

export interface CnnKernels {
  /** cols ((n·H_out·W_out) × (k·k·C_in)) from the channels-last images x. */
  im2col(op: ConvOp, x: FloatArray, n: number, cols: FloatArray): void;
  /** dx (overwritten) as the adjoint of im2col applied to cols. */
  col2im(op: ConvOp, cols: FloatArray, n: number, dx: FloatArray): void;
  /**
   * A whole float32 convolution where the device has a library for it (else absent: im2col + gemm):
   * `forward` y = m·conv(x, w); `inputGradient` dx = m·convᵀ(dy, w); `weightGradient` dw (+)= m·(x ⋆ dy).
   */
  readonly convolve?: (op: ConvOp, n: number, pass: ConvolutionPass, a: Float32Array, b: Float32Array, c: Float32Array, multiplier: number, accumulate: boolean) => void;
  /** value = σ(pre), derivative = σ'(pre), over the arrays' whole (equal) length. */
  activate(kind: Activation, leak: number, pre: FloatArray, value: FloatArray, derivative: FloatArray): void;
  /** out = a ⊙ b (product) or a + b (sum), over out's length. */
  combine(kind: 'product' | 'sum', a: FloatArray, b: FloatArray, out: FloatArray): void;
  /** Pooling and its adjoint (imageOps.ts's poolForward and poolBackward; max records in `where` the input each output read). */
  poolForward: typeof poolForward;
  poolBackward: typeof poolBackward;
}

/** The three passes of a convolution a library computes whole; the codes are the addon's. */
export const CONVOLUTION_PASSES = { forward: 0, inputGradient: 1, weightGradient: 2 } as const;
export type ConvolutionPass = keyof typeof CONVOLUTION_PASSES;

const TS_KERNELS: CnnKernels = {
  im2col,
  col2im,
  poolForward,
  poolBackward,
  activate: (kind, leak, pre, value, derivative) => applyActivation(kind, leak, pre, value, derivative, pre.length),
  combine: (kind, a, b, out) => {
    if (kind === 'product') for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
    else for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
  },
};

/** A convolution's geometry as the addon reads it (native/abi.json, object `conv`). */
interface ConvGeometry {
  n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyInTypeScript: Exclude<A, B>; onlyInTable: Exclude<B, A> };
/** `true` exactly when ConvGeometry and the table's `conv` name the same fields (a rename on one side fails the build). */
export const CONV_ABI_FIELDS_AGREE: SameKeys<keyof ConvGeometry, keyof (typeof table)['objects']['conv']> = true;

interface CnnAddon {
  /** im2col from images into rows, or with adjoint col2im from rows into images. */
  convPatches(geometry: ConvGeometry, from: FloatArray, to: FloatArray, adjoint: boolean): void;
  /** A float32 convolution pass on oneDNN (native/conv_dnnl.h); absent where the addon was built without it. */
  readonly convolve?: (geometry: ConvGeometry, outChannels: number, pass: number, a: Float32Array, b: Float32Array, c: Float32Array, multiplier: number, accumulate: boolean, threads: number) => void;
  activate(kind: Activation, leak: number, pre: FloatArray, value: FloatArray, derivative: FloatArray, threads: number): void;
  /** kind 0: out = a ⊙ b; 1: out = a + b. */
  combine(kind: number, a: FloatArray, b: FloatArray, out: FloatArray, threads: number): void;
  /** kind 0 max, 1 avg; geometry [n, height, width, channels, outHeight, outWidth, size, stride]. */
  pool(kind: number, adjoint: boolean, geometry: Int32Array, from: FloatArray, to: FloatArray, where: Int32Array | null, threads: number): void;
}

class NativeCnnKernels implements CnnKernels {
  /** One geometry object per convolution: the addon checks an object's fields once and tags it. */
  private readonly geometries = new Map<ConvOp, ConvGeometry>();
  readonly convolve?: CnnKernels['convolve'];

  constructor(
    private readonly addon: CnnAddon,
    private readonly device: NativeBackend,
  ) {
    const library = addon.convolve;
    if (library)
      this.convolve = (op, n, pass, a, b, c, multiplier, accumulate) =>
        library(this.geometry(op, n), op.output.channels, CONVOLUTION_PASSES[pass], a, b, c, multiplier, accumulate, device.threads);
  }

  activate(kind: Activation, leak: number, pre: FloatArray, value: FloatArray, derivative: FloatArray): void {
    this.addon.activate(kind, leak, pre, value, derivative, this.device.threads);
  }

  combine(kind: 'product' | 'sum', a: FloatArray, b: FloatArray, out: FloatArray): void {
    this.addon.combine(kind === 'product' ? 0 : 1, a, b, out, this.device.threads);
  }

  private pool(kind: 'max' | 'avg', s: Shape, o: Shape, size: number, stride: number, from: FloatArray, n: number, to: FloatArray, where: Int32Array, adjoint: boolean): void {
    const geometry = Int32Array.of(n, s.height, s.width, s.channels, o.height, o.width, size, stride);
    this.addon.pool(kind === 'max' ? 0 : 1, adjoint, geometry, from, to, kind === 'max' ? where : null, this.device.threads);
  }

  readonly poolForward: typeof poolForward = (kind, s, o, size, stride, x, n, y, where) => this.pool(kind, s, o, size, stride, x, n, y, where, false);
  readonly poolBackward: typeof poolBackward = (kind, s, o, size, stride, dy, n, dx, where) => this.pool(kind, s, o, size, stride, dy, n, dx, where, true);

  private geometry(op: ConvOp, n: number): ConvGeometry {
    let g = this.geometries.get(op);
    if (!g) {
      const { input, output } = op;
      g = { n, height: input.height, width: input.width, channels: input.channels, kernel: op.kernel, stride: op.stride, padding: op.padding, outHeight: output.height, outWidth: output.width };
      this.geometries.set(op, g);
    }
    g.n = n;
    return g;
  }

  im2col(op: ConvOp, x: FloatArray, n: number, cols: FloatArray): void {
    this.addon.convPatches(this.geometry(op, n), x, cols, false);
  }

  col2im(op: ConvOp, cols: FloatArray, n: number, dx: FloatArray): void {
    this.addon.convPatches(this.geometry(op, n), cols, dx, true);
  }
}

/** Each device's kernels by the device's name; others take the TypeScript ones. */
const KERNELS: Readonly<Record<string, (device: Backend) => CnnKernels | Error>> = {
  native: (device) =>
    // The addon's module exports the family's functions beside the device's; NativeAddon types only the latter.
    device instanceof NativeBackend ? new NativeCnnKernels(device.addon as unknown as CnnAddon, device) : new Error(`a device named native that is not the addon's (${device.constructor.name})`),
};

const built = new WeakMap<Backend, CnnKernels>();

export function cnnKernelsFor(device: Backend): CnnKernels {
  let kernels = built.get(device);
  if (!kernels) {
    const registered = KERNELS[device.name]?.(device);
    if (registered instanceof Error) throw new Error(`the ${device.name} device has no CNN kernels: ${registered.message}`);
    kernels = registered ?? TS_KERNELS;
    built.set(device, kernels);
  }
  return kernels;
}
