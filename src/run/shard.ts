/** `--shard k/N`: the k-th of N deterministic slices of an experiment's trial list (k from 1). */

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`--shard: expected k/N with 1 ≤ k ≤ N (e.g. 2/8), got "${text}"`);
  return { index, count };
}

/** Trial positions are dealt round-robin, so each shard gets a spread of the sweep. */
export function inShard(position: number, shard: Shard | undefined): boolean {
  return !shard || position % shard.count === shard.index - 1;
}
