/**
 * Counter-based random numbers (Philox4x32-10, Salmon et al. 2011).
 * A stream is a key; the n-th block of output depends only on (key, n), so streams derived by name
 * ("data", "init/layer0", …) are independent: adding a layer never changes the data drawn.
 */

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

/** High and low 32 bits of a 32×32-bit product, exact in doubles. */
function mulHiLo(a: number, b: number, out: Uint32Array, hiIndex: number, loIndex: number): void {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const t = aLo * bLo;
  const m1 = aHi * bLo + (t >>> 16);
  const m2 = aLo * bHi + (m1 & 0xffff);
  out[hiIndex] = aHi * bHi + (m1 >>> 16) + (m2 >>> 16);
  out[loIndex] = Math.imul(a, b);
}

/** One Philox4x32-10 block: 4 counter words and 2 key words to 4 output words. */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out = new Uint32Array(4)): Uint32Array {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  const prod = new Uint32Array(4);
  for (let round = 0; round < 10; round++) {
    mulHiLo(PHILOX_M0, c0, prod, 0, 1);
    mulHiLo(PHILOX_M1, c2, prod, 2, 3);
    const n0 = (prod[2] ^ c1 ^ k0) >>> 0;
    const n2 = (prod[0] ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = prod[3];
    c2 = n2;
    c3 = prod[1];
    k0 = (k0 + PHILOX_W0) >>> 0;
    k1 = (k1 + PHILOX_W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** 32-bit mix (murmur3 finalizer) used to derive keys from names. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashInto(state: number, text: string): number {
  let h = state;
  for (let i = 0; i < text.length; i++) h = mix32(h ^ Math.imul(text.charCodeAt(i) + 1, 0x9e3779b1));
  return mix32(h ^ text.length);
}

export class Rng {
  private readonly key: Uint32Array;
  private readonly counter = new Uint32Array(4);
  private readonly block = new Uint32Array(4);
  private used = 4;
  private spareGaussian: number | null = null;

  private constructor(key0: number, key1: number) {
    this.key = new Uint32Array([key0, key1]);
  }

  /** The root stream of a seed (any non-negative integer up to 2^53). */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    return new Rng(mix32(lo ^ 0x3c6ef372), mix32(hi ^ mix32(lo + 0x2545f491)));
  }

  /** An independent stream named relative to this one; it does not consume this stream. */
  child(name: string | number): Rng {
    const text = String(name);
    return new Rng(hashInto(this.key[0] ^ 0xa54ff53a, text), hashInto(this.key[1] ^ 0x510e527f, text));
  }

  nextUint32(): number {
    if (this.used === 4) {
      philox4x32(this.counter, this.key, this.block);
      // 64-bit block index in words 0 and 1.
      this.counter[0] = (this.counter[0] + 1) >>> 0;
      if (this.counter[0] === 0) this.counter[1] = (this.counter[1] + 1) >>> 0;
      this.used = 0;
    }
    return this.block[this.used++];
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal by Box–Muller (both values used, in order). */
  gaussian(): number {
    if (this.spareGaussian !== null) {
      const g = this.spareGaussian;
      this.spareGaussian = null;
      return g;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareGaussian = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  integer(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** +1 or −1 with probability 1/2. */
  sign(): number {
    return this.nextUint32() & 1 ? 1 : -1;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
