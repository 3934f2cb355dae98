import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { applyBlasCoreType, coreTypeFor, fp64FlopsPerCycle, parseCpuInfo } from '../../src/linalg/cpuKernels.js';
import { loadNativeAddon } from '../../src/linalg/nativeBackend.js';

const cpuinfo = (vendor: string, flags: string) => `processor\t: 0\nvendor_id\t: ${vendor}\nmodel name\t: Test CPU\ncpu MHz\t\t: 2900.000\nflags\t\t: fpu sse sse2 ${flags}\n\nprocessor\t: 1\n`;
const xeon = parseCpuInfo(cpuinfo('GenuineIntel', 'avx avx2 fma avx512f avx512dq avx512bw avx512vl'));
const haswell = parseCpuInfo(cpuinfo('GenuineIntel', 'avx avx2 fma'));
const epyc = parseCpuInfo(cpuinfo('AuthenticAMD', 'avx avx2 fma'));

describe('BLAS kernel selection', () => {
  it('reads the CPU and names the core type OpenBLAS 0.3.21 does not find by itself', () => {
    assert.equal(xeon.megahertz, 2900);
    assert.equal(xeon.model, 'Test CPU');
    assert.equal(coreTypeFor(xeon), 'SkylakeX');
    assert.equal(coreTypeFor(haswell), 'Haswell');
    assert.equal(coreTypeFor(epyc), null, 'AMD parts are left to the library');
    assert.equal(coreTypeFor(parseCpuInfo(cpuinfo('GenuineIntel', 'sse3'))), null);
    assert.deepEqual([xeon, haswell, parseCpuInfo(cpuinfo('GenuineIntel', 'avx'))].map(fp64FlopsPerCycle), [32, 16, 8]);
  });

  it('FEATLAB_BLAS_CORETYPE wins, then OPENBLAS_CORETYPE, then the CPU', () => {
    const forced: NodeJS.ProcessEnv = { FEATLAB_BLAS_CORETYPE: 'Zen', OPENBLAS_CORETYPE: 'Haswell' };
    assert.deepEqual(applyBlasCoreType(forced, xeon), { coreType: 'Zen', source: 'FEATLAB_BLAS_CORETYPE' });
    assert.equal(forced.OPENBLAS_CORETYPE, 'Zen');
    const own: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: 'Haswell' };
    applyBlasCoreType(own, xeon);
    assert.equal(own.OPENBLAS_CORETYPE, 'Haswell');
    const chosen: NodeJS.ProcessEnv = {};
    assert.deepEqual(applyBlasCoreType(chosen, xeon), { coreType: 'SkylakeX', source: 'cpu features' });
    assert.equal(chosen.OPENBLAS_CORETYPE, 'SkylakeX');
    const left: NodeJS.ProcessEnv = { OPENBLAS_CORETYPE: '' };
    applyBlasCoreType(left, epyc);
    assert.ok(!('OPENBLAS_CORETYPE' in left), 'an empty value is unset, not passed on');
  });

  it('the core type reaches the BLAS that a run’s worker threads use', { skip: loadNativeAddon() instanceof Error ? 'no native addon' : process.arch !== 'x64' ? 'x86-64 core types' : false }, () => {
    // A fresh process: the main thread sets the type, a worker loads the addon and reports its kernels.
    const backend = new URL('../../src/linalg/index.js', import.meta.url).href;
    const script = `
      const { Worker } = await import('node:worker_threads');
      const { applyBlasCoreType } = await import(${JSON.stringify(new URL('../../src/linalg/cpuKernels.js', import.meta.url).href)});
      applyBlasCoreType();
      const w = new Worker(\`Promise.all([import('node:worker_threads'), import(${JSON.stringify(backend)})]).then(([t, m]) => t.parentPort.postMessage(m.getBackend().describe().blas))\`, { eval: true });
      w.once('message', (m) => { console.log(m); process.exit(0); });`;
    // Sandybridge (AVX) runs on any x86-64 CPU this test meets and is no library's automatic choice.
    const { OPENBLAS_CORETYPE: _unset, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...env, FEATLAB_BLAS_CORETYPE: 'Sandybridge' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\bSandybridge\b/);
  });
});
