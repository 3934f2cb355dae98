/** Picks the backend: `ts` is the reference; FEATLAB_BACKEND forces one by name. */
import type { Backend } from './backend.js';
import { TsBackend } from './tsBackend.js';

export const BACKEND_NAMES = ['ts'] as const;
let current: Backend | null = null;

export function getBackend(): Backend {
  if (current) return current;
  const requested = typeof process !== 'undefined' ? process.env.FEATLAB_BACKEND : undefined;
  if (requested && !(BACKEND_NAMES as readonly string[]).includes(requested))
    throw new Error(`FEATLAB_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, got "${requested}"`);
  current = new TsBackend();
  return current;
}

export function setBackend(backend: Backend): void {
  current = backend;
}
