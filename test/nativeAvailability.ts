/**
 * The skip option of a suite that needs the native addon: its reason where the addon cannot load
 * (reported by node's runner as a skip, never a silent pass). Where it must load (CI, or
 * FEATLAB_BACKEND=native), test/linalg/nativeBackend.test.ts fails on its absence.
 */
import type { Backend } from '../src/linalg/backend.js';

export function nativeSkip(loaded: Backend | Error): string | false {
  return loaded instanceof Error ? `the native addon is not loaded: ${loaded.message}` : false;
}
