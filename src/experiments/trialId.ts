/** A trial's id: a hash of its canonical config, so key order and number spelling do not matter. */
import { createHash } from 'node:crypto';
import type { TrialSpec } from './trialSpec.js';

/** JSON with object keys sorted at every level; numbers as JavaScript prints them (1.0 → 1, 1e-3 → 0.001). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return JSON.stringify(String(value));
  return JSON.stringify(value);
}

/** 16 hex digits of SHA-256 over the canonical JSON of the validated (defaults filled) spec. */
export function trialId(spec: TrialSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}
