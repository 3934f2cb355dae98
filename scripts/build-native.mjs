// Builds the native backend (OpenBLAS/LAPACK through N-API) when its headers are installed
// (Debian: libopenblas-dev liblapacke-dev); otherwise says so and leaves featlab on the ts backend.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { writeAbiHeader } from './native-abi.mjs';

const headers = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'];
if (process.env.FEATLAB_SKIP_NATIVE) {
  console.log('featlab: FEATLAB_SKIP_NATIVE is set; the native backend is not built');
  process.exit(0);
}
if (!headers.some((h) => existsSync(h)) || !existsSync('/usr/include/lapacke.h')) {
  console.log('featlab: OpenBLAS/LAPACKE headers not found (apt-get install libopenblas-dev liblapacke-dev); using the ts backend');
  process.exit(0);
}
writeAbiHeader();
// npm passes its own node-gyp to lifecycle scripts; outside npm, one on the PATH is used.
const gyp = process.env.npm_config_node_gyp;
const result = gyp ? spawnSync(process.execPath, [gyp, 'rebuild', '--release'], { stdio: 'inherit' }) : spawnSync('node-gyp', ['rebuild', '--release'], { stdio: 'inherit', shell: true });
if (result.status !== 0) console.log('featlab: the native backend did not build; featlab runs on the ts backend');
