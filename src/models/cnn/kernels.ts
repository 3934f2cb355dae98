/**
 * The convolutional family's kernels per device: gathering patches into rows (im2col) and its adjoint.
 * The `ts` versions (imageOps.ts) run on any device; the native device's addon has its own
 * (native/cnn_kernels.h), threaded over the images.
 */
import type { Backend } from '../../linalg/backend.js';
import type { FloatArray } from '../../linalg/matrix.js';
import { NativeBackend } from '../../linalg/nativeBackend.js';
import type table from '../../../native/abi.json';
import { col2im, im2col } from './imageOps.js';
import type { ConvOp } from './plan.js';

export interface CnnKernels {
  /** cols ((n·H_out·W_out) × (k·k·C_in)) from the channels-last images x. */
  im2col(op: ConvOp, x: FloatArray, n: number, cols: FloatArray): void;
  /** dx (overwritten) as the adjoint of im2col applied to cols. */
  col2im(op: ConvOp, cols: FloatArray, n: number, dx: FloatArray): void;
}

const TS_KERNELS: CnnKernels = { im2col, col2im };

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
}

class NativeCnnKernels implements CnnKernels {
  /** One geometry object per convolution: the addon checks an object's fields once and tags it. */
  private readonly geometries = new Map<ConvOp, ConvGeometry>();

  constructor(private readonly addon: CnnAddon) {}

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
    device instanceof NativeBackend ? new NativeCnnKernels(device.addon as unknown as CnnAddon) : new Error(`a device named native that is not the addon's (${device.constructor.name})`),
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
