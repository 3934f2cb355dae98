/**
 * Picks the backend: `native` (OpenBLAS through the addon) when it loads, else the `ts` reference
 * with a one-line notice; FEATLAB_BACKEND=ts|native forces one.
 */
import type { Backend } from './backend.js';
import { loadNativeAddon, NativeBackend } from './nativeBackend.js';
import { TsBackend } from './tsBackend.js';

export const BACKEND_NAMES = ['ts', 'native'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** FEATLAB_BACKEND names no backend, or one that cannot load: a user's setting, said in one line. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}

let current: Backend | null = null;
let fallbackReason: string | null = null;

/** The backend of a name; null (with the reason) when native cannot load. */
export function createBackend(name: BackendName): Backend | Error {
  if (name === 'ts') return new TsBackend();
  const addon = loadNativeAddon();
  return addon instanceof Error ? addon : new NativeBackend(addon);
}

export function getBackend(): Backend {
  if (current) return current;
  const requested = typeof process !== 'undefined' ? process.env.FEATLAB_BACKEND : undefined;
  if (requested !== undefined && requested !== '' && !(BACKEND_NAMES as readonly string[]).includes(requested))
    throw new BackendError(`FEATLAB_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, got "${requested}"`);
  if (requested === 'ts') return (current = new TsBackend());
  const native = createBackend('native');
  if (native instanceof Error) {
    const reason = native.message.split('\n')[0];
    if (requested === 'native') throw new BackendError(`FEATLAB_BACKEND=native: the native addon cannot load (${reason}); build it with \`npm run build:native\` after apt-get install libopenblas-dev liblapacke-dev`);
    fallbackReason = reason;
    if (!process.env.FEATLAB_QUIET_BACKEND) process.stderr.write('featlab: native backend not available, using the ts backend (featlab doctor says why)\n');
    return (current = new TsBackend());
  }
  return (current = native);
}

/** Why the native backend is not in use, if it is not. */
export function backendFallbackReason(): string | null {
  getBackend();
  return fallbackReason;
}

export function setBackend(backend: Backend): void {
  current = backend;
}
