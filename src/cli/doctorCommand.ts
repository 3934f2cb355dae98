/** `featlab doctor`: which backend runs, over which BLAS with how many threads, and what is installed. */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { backendFallbackReason, getBackend } from '../linalg/index.js';
import { DATASETS, locate } from '../data/catalog.js';
import { REAL_DATASETS } from '../data/realDatasetNames.js';
import { FEATLAB_VERSION } from '../run/version.js';

export function doctorCommand(): Command {
  return new Command('doctor').description('which backend, BLAS and threads featlab uses, and which data sets and fonts it finds').action(() => {
    const backend = getBackend();
    const reason = backendFallbackReason();
    const blas = backend.describe?.();
    const lines = [
      `featlab ${FEATLAB_VERSION} on Node ${process.version}, ${availableParallelism()} cores`,
      `backend    ${backend.name}${process.env.FEATLAB_BACKEND ? ` (forced by FEATLAB_BACKEND=${process.env.FEATLAB_BACKEND})` : ''}`,
      blas ? `BLAS       ${blas.blas}` : `BLAS       none (the ts backend's own loops)${reason ? `; native: ${reason}` : ''}`,
      `threads    BLAS ${blas ? blas.threads : 1} in this process; \`featlab run\` uses one worker per core with 1 BLAS thread each (--threads N)`,
      `data       ${REAL_DATASETS.map((d) => `${d}: ${locate(DATASETS[d]) ? 'found' : 'missing'}`).join(', ')}`,
      `font       ${existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') ? 'DejaVu Sans found' : 'DejaVu Sans missing (apt-get install fonts-dejavu-core) — report PNGs fall back to system fonts'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
