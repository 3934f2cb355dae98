/** A trial's id: a hash of its canonical config, so key order and number spelling do not matter. */
import { createHash } from 'node:crypto';
import type { TrialSpec } from './trialSpec.js';
import { canonicalJson } from './canonicalJson.js';

/** 16 hex digits of SHA-256 over the canonical JSON of the validated (defaults filled) spec. */
export function trialId(spec: TrialSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}
