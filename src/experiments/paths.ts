/** Plain-object helpers for specs: deep merge and dotted-path assignment ("training.stop.maxSteps"). */

export type PlainObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is PlainObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Objects merge key by key; anything else (arrays included) in `over` replaces what is in `base`.
 * With nullRemoves, a null in `over` removes the key instead (JSON merge patch, RFC 7386).
 */
export function deepMerge(base: unknown, over: unknown, { nullRemoves = false } = {}): unknown {
  if (!isPlainObject(over) || (!isPlainObject(base) && !nullRemoves)) return over === undefined ? base : over;
  const out: PlainObject = isPlainObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(over)) {
    if (v === null && nullRemoves) delete out[k];
    else out[k] = deepMerge(out[k], v, { nullRemoves });
  }
  return out;
}

/** The value at a dotted path (numeric parts index arrays), or undefined where there is none. */
export function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), obj);
}

/** A dotted path that names no field: an empty part, or a list index past the list's end. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

/** Returns a copy of obj with the value at the dotted path set (numeric parts index arrays, up to one past the end). */
export function setPath(obj: unknown, path: string, value: unknown, whole = path): unknown {
  const [head, ...rest] = path.split('.');
  if (head === '') throw new PathError(`${whole}: a field path has no empty parts (write e.g. model.outputScale)`);
  const index = /^\d+$/.test(head) ? Number(head) : null;
  if (index !== null && Array.isArray(obj)) {
    if (index > obj.length) throw new PathError(`${whole}: index ${head} is past the end of a list of ${obj.length} (an index may be at most its length, to append)`);
    const copy = [...obj];
    copy[index] = rest.length ? setPath(copy[index], rest.join('.'), value, whole) : value;
    return copy;
  }
  const base: PlainObject = isPlainObject(obj) ? obj : {};
  return { ...base, [head]: rest.length ? setPath(base[head], rest.join('.'), value, whole) : value };
}
