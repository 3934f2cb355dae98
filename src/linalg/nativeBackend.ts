/**
 * The native device: the N-API addon in native/ over OpenBLAS and LAPACK, on the same typed arrays
 * as the ts device (no copies).
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { applyBlasCoreType } from './cpuKernels.js';
import { availableParallelism } from 'node:os';
import type { Backend, SymmetricEigen } from './backend.js';
import { HOST_MEMORY, type FloatArray } from './matrix.js';

/** The addon's generic operations (a model family types its own kernels: src/models/mlp/nativeKernels.ts). */
export interface NativeAddon {
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void;
  gram(a: FloatArray, rows: number, cols: number, out: FloatArray): void;
  symmetricEigen(a: FloatArray, n: number): SymmetricEigen;
  symmetricEigenvalues(a: FloatArray, n: number): Float64Array;
  singularValues(a: FloatArray, rows: number, cols: number): Float64Array;
  cholesky(a: FloatArray, n: number): Float64Array;
  ridgeSolve(x: FloatArray, n: number, p: number, y: FloatArray, q: number, lambda: number): Float64Array;
  setThreads(n: number): void;
  describe(): NativeDescription;
}

/** The addon's libraries: its BLAS's configuration, BLAS threads, and what runs float32 convolutions. */
export interface NativeDescription {
  readonly blas: string;
  readonly threads: number;
  readonly convolutions: string;
}

const ADDON_PATH = '../../../build/Release/featlab_native.node';

/** Loads the addon, or returns the reason it cannot be loaded. */
export function loadNativeAddon(): NativeAddon | Error {
  // The BLAS reads its core type once, when it loads; only the main thread's environment is the process's.
  if (isMainThread) {
    applyBlasCoreType();
    // oneDNN's OpenMP threads (where the addon has it) would otherwise spin between convolutions, taking
    // the cores BLAS and the member threads need; OpenMP reads this once, when it loads.
    process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  }
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly allocate = HOST_MEMORY.allocate;
  readonly read = HOST_MEMORY.read;
  readonly readAsync = HOST_MEMORY.readAsync;
  /** Threads a training call may use for an ensemble's members: every core on the main thread, 1 in a worker until told. */
  threads = isMainThread ? availableParallelism() : 1;

  /** The loaded addon, whose MLP functions that family's native kernels call (src/models/mlp/nativeKernels.ts). */
  constructor(readonly addon: NativeAddon) {}

  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): void {
    this.addon.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
  }

  gram(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
    this.addon.gram(a, rows, cols, out);
  }

  symmetricEigen(a: FloatArray, n: number): SymmetricEigen {
    return this.addon.symmetricEigen(a, n);
  }

  symmetricEigenvalues(a: FloatArray, n: number): Float64Array {
    return this.addon.symmetricEigenvalues(a, n);
  }

  singularValues(a: FloatArray, rows: number, cols: number): Float64Array {
    return this.addon.singularValues(a, rows, cols);
  }

  cholesky(a: FloatArray, n: number): Float64Array {
    return this.addon.cholesky(a, n);
  }

  ridgeSolve(x: FloatArray, n: number, p: number, y: FloatArray, q: number, lambda: number): Float64Array {
    return this.addon.ridgeSolve(x, n, p, y, q, lambda);
  }

  /** OpenBLAS's thread count (process-wide) and the member threads of a training call. */
  setThreads(threads: number): void {
    this.threads = threads;
    this.addon.setThreads(threads);
  }

  describe(): NativeDescription {
    return this.addon.describe();
  }
}
