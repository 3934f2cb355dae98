/**
 * Which OpenBLAS kernels this CPU should run. A DYNAMIC_ARCH OpenBLAS picks its kernels from the CPU
 * model when it loads; 0.3.21 does not know the newer Intel models and falls back to its Prescott
 * (SSE3) kernels, several times slower than the AVX-512 ones the CPU has. So before the library loads
 * featlab names the core type from the CPU's features: FEATLAB_BLAS_CORETYPE wins, then the BLAS's
 * own OPENBLAS_CORETYPE, then the choice below; AMD parts are left to the library, which knows them.
 */
import { readFileSync } from 'node:fs';

export interface CpuInfo {
  readonly vendor: string;
  readonly model: string;
  readonly flags: ReadonlySet<string>;
  /** Clock in MHz as the kernel reports it (nominal on most virtual machines), or null. */
  readonly megahertz: number | null;
}

/** The first processor's entry of a /proc/cpuinfo text. */
export function parseCpuInfo(text: string): CpuInfo {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const mhz = Number.parseFloat(field('cpu MHz'));
  return { vendor: field('vendor_id'), model: field('model name'), flags: new Set(field('flags').split(/\s+/).filter(Boolean)), megahertz: Number.isFinite(mhz) && mhz > 0 ? mhz : null };
}

export function readCpuInfo(): CpuInfo | null {
  try {
    return parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return null;
  }
}

const AVX512 = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'];

/** OpenBLAS's core type for an Intel CPU with AVX-512 (SkylakeX) or AVX2 + FMA (Haswell); null otherwise. */
export function coreTypeFor(cpu: CpuInfo): string | null {
  if (cpu.vendor !== 'GenuineIntel') return null;
  if (AVX512.every((f) => cpu.flags.has(f))) return 'SkylakeX';
  if (cpu.flags.has('avx2') && cpu.flags.has('fma')) return 'Haswell';
  return null;
}

/** Double-precision flops per cycle and core the CPU's vector units allow (two FMA pipes assumed). */
export function fp64FlopsPerCycle(cpu: CpuInfo): number {
  if (AVX512.every((f) => cpu.flags.has(f))) return 32;
  if (cpu.flags.has('avx2') && cpu.flags.has('fma')) return 16;
  if (cpu.flags.has('avx')) return 8;
  return 4;
}

export interface CoreTypeChoice {
  readonly coreType: string | null;
  readonly source: 'FEATLAB_BLAS_CORETYPE' | 'OPENBLAS_CORETYPE' | 'cpu features' | 'library detection';
}

let applied: CoreTypeChoice | null = null;

/**
 * Sets OPENBLAS_CORETYPE in env (the process's environment by default) before the BLAS loads; call it
 * on the main thread, whose environment is the process's (a worker thread's is its own copy).
 */
export function applyBlasCoreType(env: NodeJS.ProcessEnv = process.env, cpu: CpuInfo | null = readCpuInfo()): CoreTypeChoice {
  const forced = env.FEATLAB_BLAS_CORETYPE?.trim();
  if (forced) {
    env.OPENBLAS_CORETYPE = forced;
    return (applied = { coreType: forced, source: 'FEATLAB_BLAS_CORETYPE' });
  }
  const own = env.OPENBLAS_CORETYPE?.trim();
  // OpenBLAS reads an empty value as a core type of its own (it picks Haswell): unset it instead.
  if (own === '') delete env.OPENBLAS_CORETYPE;
  if (own) return (applied ??= { coreType: own, source: 'OPENBLAS_CORETYPE' });
  const chosen = cpu ? coreTypeFor(cpu) : null;
  if (chosen) {
    env.OPENBLAS_CORETYPE = chosen;
    return (applied = { coreType: chosen, source: 'cpu features' });
  }
  return (applied ??= { coreType: null, source: 'library detection' });
}

/** What applyBlasCoreType chose in this process, if it ran. */
export function appliedCoreType(): CoreTypeChoice | null {
  return applied;
}
