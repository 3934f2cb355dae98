/** featlab's own version, read once from package.json (stored with every trial). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const FEATLAB_VERSION = (require('../../../package.json') as { version: string }).version;
