/** Plain-object helpers for specs: deep merge and dotted-path assignment ("training.stop.maxSteps"). */

export type PlainObject = Record<string, unknown>;

export function isPlainObject(v: unknown): v is PlainObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Objects merge key by key; anything else (arrays included) in `over` replaces what is in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: PlainObject = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** Returns a copy of obj with the value at the dotted path set (numeric parts index arrays). */
export function setPath(obj: unknown, path: string, value: unknown): unknown {
  const [head, ...rest] = path.split('.');
  if (head === '') throw new Error(`empty field name in path "${path}"`);
  const index = /^\d+$/.test(head) ? Number(head) : null;
  if (index !== null && Array.isArray(obj)) {
    const copy = [...obj];
    copy[index] = rest.length ? setPath(copy[index], rest.join('.'), value) : value;
    return copy;
  }
  const base: PlainObject = isPlainObject(obj) ? obj : {};
  return { ...base, [head]: rest.length ? setPath(base[head], rest.join('.'), value) : value };
}
