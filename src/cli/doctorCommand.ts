/** `featlab doctor`: which backend runs, over which BLAS with how many threads, and what is installed. */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { backendFallbackReason, getBackend } from '../linalg/index.js';
import type { Backend } from '../linalg/backend.js';
import { appliedCoreType, fp64FlopsPerCycle, readCpuInfo } from '../linalg/cpuKernels.js';
import { DATASETS, locate } from '../data/catalog.js';
import { REAL_DATASETS } from '../data/realDatasetNames.js';
import { FEATLAB_VERSION } from '../run/version.js';

/** Best of three timed n³ products after a warm-up, in GFLOP/s. */
function gemmRate(backend: Backend, n: number, dtype: 'float64' | 'float32'): number {
  const make = () => Float64Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const [a, b, c] = dtype === 'float64' ? [make(), make(), new Float64Array(n * n)] : [Float32Array.from(make()), Float32Array.from(make()), new Float32Array(n * n)];
  backend.gemm(false, false, n, n, n, 1, a, b, 0, c);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    backend.gemm(false, false, n, n, n, 1, a, b, 0, c);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return (2 * n ** 3) / best / 1e9;
}

/** The BLAS core type and where it came from, a measured GEMM rate beside the CPU's, and a warning when far below. */
function kernelLines(backend: Backend, threads: number): string[] {
  const choice = appliedCoreType();
  const cpu = readCpuInfo();
  const lines = [
    `kernels    ${choice?.coreType ? `${choice.coreType}, from ${choice.source === 'cpu features' ? "the CPU's features (OPENBLAS_CORETYPE set by featlab)" : choice.source}` : "OpenBLAS's own detection (the BLAS line names it)"}${cpu ? `; CPU ${cpu.model}` : ''}`,
  ];
  const fp64 = gemmRate(backend, 1024, 'float64');
  const fp32 = gemmRate(backend, 1024, 'float32');
  const perCycle = cpu ? fp64FlopsPerCycle(cpu) : null;
  const peak = cpu?.megahertz && perCycle ? (threads * cpu.megahertz * perCycle) / 1000 : null;
  lines.push(`GEMM       1024³ on ${threads} BLAS threads: ${fp64.toFixed(1)} GFLOP/s fp64, ${fp32.toFixed(1)} fp32${peak ? `; the vector units allow about ${peak.toFixed(0)} / ${(2 * peak).toFixed(0)} (${perCycle} fp64 flops a cycle at ${cpu?.megahertz?.toFixed(0)} MHz)` : ''}`);
  if (peak && fp64 < peak / 2)
    lines.push(`warning    the fp64 GEMM runs at ${((100 * fp64) / peak).toFixed(0)}% of what the CPU allows: the BLAS may run generic kernels; set FEATLAB_BLAS_CORETYPE (e.g. SkylakeX, Haswell, Zen) or check for other load on the machine`);
  return lines;
}

export function doctorCommand(): Command {
  return new Command('doctor').description('which backend, BLAS and threads featlab uses, and which data sets and fonts it finds').action(() => {
    const backend = getBackend();
    const reason = backendFallbackReason();
    const blas = backend.describe?.();
    const lines = [
      `featlab ${FEATLAB_VERSION} on Node ${process.version}, ${availableParallelism()} cores`,
      `backend    ${backend.name}${process.env.FEATLAB_BACKEND ? ` (forced by FEATLAB_BACKEND=${process.env.FEATLAB_BACKEND})` : ''}`,
      blas ? `BLAS       ${blas.blas}` : `BLAS       none (the ts backend's own loops)${reason ? `; native: ${reason}` : ''}`,
      ...(blas ? kernelLines(backend, blas.threads) : []),
      `conv       float32: ${blas ? blas.convolutions : "im2col + the ts backend's gemm"}; float64: im2col + gemm`,
      `threads    BLAS ${blas ? blas.threads : 1} in this process; \`featlab run\` uses one worker per core with 1 BLAS thread each (--threads N)`,
      `data       ${REAL_DATASETS.map((d) => `${d}: ${locate(DATASETS[d]) ? 'found' : 'missing'}`).join(', ')}`,
      `font       ${existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') ? 'DejaVu Sans found' : 'DejaVu Sans missing (apt-get install fonts-dejavu-core) — report PNGs fall back to system fonts'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
