/**
 * A small, seeded pseudo-random number generator for everything the runtime draws: data
 * generation, partitions, batch order and parameter initialisation.
 *
 * The generator is **xoshiro128\*\*** (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", 2018): 128 bits of state, period 2¹²⁸ − 1, fast in 32-bit JavaScript integer
 * arithmetic, and good enough for simulation (it passes BigCrush). It is not cryptographic.
 *
 * Streams are derived, never shared: {@linkcode randomStream} hashes `(seed, purpose, …indices)`
 * (for example `(plan.seed, "batches", rank, epoch)`) into the 128-bit state with four
 * independently keyed 32-bit hash lanes (MurmurHash3-style mixing, finalised by its `fmix32`
 * avalanche step), so every worker's stream is a pure function of its coordinates and streams with
 * different coordinates are statistically independent. No stream depends on how many numbers any
 * other stream has drawn.
 *
 * @module
 */

/** A coordinate of a derived stream: a purpose name or a non-negative integer index. */
export type StreamKey = string | number;

/** MurmurHash3's 32-bit finaliser: a full avalanche of the bits of `h`. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes one 32-bit word into a MurmurHash3 lane. */
function absorb(h: number, word: number): number {
  let k = Math.imul(word >>> 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** The 32-bit words that encode a stream key, tagged by type so `"1"` and `1` differ. */
function keyWords(key: StreamKey): number[] {
  if (typeof key === "number") {
    if (!Number.isInteger(key) || key < 0 || key > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`Random stream index must be a non-negative safe integer: ${key}`);
    }
    return [0x4e554d42, key >>> 0, Math.floor(key / 2 ** 32) >>> 0];
  }
  const words = [0x53545247, key.length];
  for (let i = 0; i < key.length; i++) words.push(key.charCodeAt(i));
  return words;
}

/** Lane keys: four odd constants (fractional bits of √2, √3, √5, √7). */
const LANES = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a] as const;

/**
 * Derives a 128-bit xoshiro state from stream coordinates.
 *
 * @param keys The coordinates: seed first, then purpose and indices.
 * @returns Four state words, never all zero.
 */
function deriveState(keys: readonly StreamKey[]): Uint32Array {
  const words = keys.flatMap(keyWords);
  const state = new Uint32Array(4);
  LANES.forEach((lane, i) => {
    let h: number = lane;
    for (const word of words) h = absorb(h, word);
    state[i] = fmix32(h ^ words.length ^ Math.imul(i + 1, 0x9e3779b9));
  });
  if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) state[0] = 1;
  return state;
}

/**
 * A seeded xoshiro128** generator with uniform, normal, gamma, Dirichlet and shuffling draws.
 * Create one with {@linkcode randomStream}; derive sub-streams with {@linkcode Random.fork}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomStream } from "./random.ts";
 * const a = randomStream(42, "init");
 * const b = randomStream(42, "init");
 * assert.ok(a.uniform() === b.uniform());
 * ```
 */
export class Random {
  readonly #s: Uint32Array;
  readonly #keys: readonly StreamKey[];
  #spare: number | null = null;

  /**
   * A generator whose state is the hash of its coordinates; {@linkcode randomStream} is the
   * usual way to make one.
   *
   * @param keys The stream's coordinates (seed, purpose, indices), hashed into the state.
   * @throws {RangeError} When a numeric coordinate is not a non-negative safe integer.
   */
  constructor(keys: readonly StreamKey[]) {
    this.#keys = [...keys];
    this.#s = deriveState(this.#keys);
  }

  /**
   * A generator started from an explicit xoshiro128** state, for checking against the reference
   * implementation; {@linkcode Random.fork} on it derives from the state words.
   *
   * @param state Four 32-bit words, not all zero.
   * @returns The generator.
   * @throws {RangeError} When the state does not have four words or is all zero.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Random } from "./random.ts";
   * assert.ok(Random.fromState([1, 2, 3, 4]).nextUint32() === 11520);
   * ```
   */
  static fromState(state: readonly number[]): Random {
    const words = state.map((w) => w >>> 0);
    if (words.length !== 4 || words.every((w) => w === 0)) {
      throw new RangeError(`xoshiro128** state must be four words, not all zero: [${state}]`);
    }
    const random = new Random(["state", ...words]);
    random.#s.set(words);
    return random;
  }

  /**
   * The next raw 32-bit output.
   *
   * @returns An unsigned integer in `[0, 2³²)`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const word = randomStream(1, "x").nextUint32();
   * assert.ok(Number.isInteger(word) && word >= 0 && word < 2 ** 32);
   * ```
   */
  nextUint32(): number {
    const s = this.#s;
    const s0 = s[0]!, s1 = s[1]!;
    const s2 = s[2]! ^ s0;
    const s3 = s[3]! ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = rotl(s3, 11);
    return result;
  }

  /**
   * Fills `out` with the next `out.length` 32-bit outputs, the same words `nextUint32` would
   * return one by one, without a call per word (for codecs that draw one word per value).
   *
   * @param out The array to fill.
   * @returns `out`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const words = randomStream(1, "x").fillUint32(new Uint32Array(3));
   * const one = randomStream(1, "x");
   * assert.ok(words[2] === (one.nextUint32(), one.nextUint32(), one.nextUint32()));
   * ```
   */
  fillUint32(out: Uint32Array): Uint32Array {
    const s = this.#s;
    let s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return out;
  }

  /**
   * Lends the four xoshiro128** state words to `use`, which may advance them: for a kernel that
   * draws {@linkcode Random.fillUint32}'s words elsewhere (the WebAssembly kernels of
   * `runtime/kernels/`), so the stream goes on exactly as if `fillUint32` had drawn them.
   *
   * @param use Reads and may advance the state words, in place.
   * @returns What `use` returns.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Random } from "./random.ts";
   * const random = Random.fromState([1, 2, 3, 4]);
   * assert.deepEqual(random.withState((state) => [...state]), [1, 2, 3, 4]);
   * ```
   */
  withState<T>(use: (state: Uint32Array) => T): T {
    return use(this.#s);
  }

  /**
   * A uniform double with 53 random bits.
   *
   * @returns A number in `[0, 1)`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const u = randomStream(1, "x").uniform();
   * assert.ok(u >= 0 && u < 1);
   * ```
   */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A uniform integer in `[0, n)`, without modulo bias (rejection of the top `2³² mod n` outputs).
   *
   * @param n The number of values, `1 ≤ n ≤ 2³²`.
   * @returns An integer in `[0, n)`.
   * @throws {RangeError} When `n` is not an integer in `[1, 2³²]`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const die = randomStream(1, "dice").integer(6);
   * assert.ok(die >= 0 && die < 6);
   * ```
   */
  integer(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) {
      throw new RangeError(`Random integer range must be an integer in [1, 2^32]: ${n}`);
    }
    // Reject the top (2^32 mod n) outputs so that x mod n is exactly uniform.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /**
   * A standard normal draw by the Box–Muller transform; the second value of each pair is kept
   * for the next call.
   *
   * @param mean The mean (default 0).
   * @param std The standard deviation (default 1).
   * @returns A normal draw.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * assert.ok(Number.isFinite(randomStream(1, "noise").normal(0, 2)));
   * ```
   */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.#spare !== null) {
      z = this.#spare;
      this.#spare = null;
    } else {
      const u1 = 1 - this.uniform(); // (0, 1]: log is finite
      const u2 = this.uniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      z = r * Math.cos(2 * Math.PI * u2);
      this.#spare = r * Math.sin(2 * Math.PI * u2);
    }
    return mean + std * z;
  }

  /**
   * A Gamma(shape, 1) draw by Marsaglia and Tsang's method (2000); for `shape < 1` it draws
   * Gamma(shape + 1) and multiplies by `U^(1/shape)` (their boost).
   *
   * @param shape The shape `k > 0`; the mean and variance are both `k`.
   * @returns A positive draw (it can underflow to 0 for very small shapes).
   * @throws {RangeError} When `shape` is not a positive finite number.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * assert.ok(randomStream(1, "g").gamma(0.5) >= 0);
   * ```
   */
  gamma(shape: number): number {
    if (!(shape > 0) || !Number.isFinite(shape)) {
      throw new RangeError(`Gamma shape must be a positive number: ${shape}`);
    }
    if (shape < 1) {
      const u = 1 - this.uniform();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /**
   * A draw from the symmetric Dirichlet(alpha, …, alpha) distribution over `k` categories:
   * normalised independent Gamma(alpha) draws. When every Gamma draw underflows (tiny alpha),
   * all the mass goes to one uniformly chosen category, the distribution's limit.
   *
   * @param alpha The concentration `alpha > 0`.
   * @param k The number of categories.
   * @returns `k` non-negative proportions summing to 1.
   * @throws {RangeError} When `alpha` is not positive or `k < 1`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const p = randomStream(1, "dir").dirichlet(0.5, 4);
   * assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
   * ```
   */
  dirichlet(alpha: number, k: number): number[] {
    if (!Number.isInteger(k) || k < 1) {
      throw new RangeError(`Dirichlet needs at least one category: ${k}`);
    }
    const draws = Array.from({ length: k }, () => this.gamma(alpha));
    const total = draws.reduce((a, b) => a + b, 0);
    if (!(total > 0)) {
      const one = this.integer(k);
      return draws.map((_, i) => (i === one ? 1 : 0));
    }
    return draws.map((g) => g / total);
  }

  /**
   * Shuffles an array in place (Fisher–Yates, uniform over permutations).
   *
   * @param array The array or typed array to shuffle.
   * @returns The same array, shuffled.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const xs = randomStream(7, "order").shuffle([1, 2, 3, 4]);
   * assert.ok([...xs].sort().join() === "1,2,3,4");
   * ```
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /**
   * A uniformly random permutation of `0..n-1`.
   *
   * @param n The length.
   * @returns The permutation.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * assert.ok(randomStream(3, "perm").permutation(5).length === 5);
   * ```
   */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /**
   * An independent stream derived from this stream's coordinates plus `keys`; it does not
   * depend on how much this stream has drawn.
   *
   * @param keys Further coordinates (a purpose, an index).
   * @returns The derived stream.
   * @throws {RangeError} When a numeric coordinate is not a non-negative safe integer.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randomStream } from "./random.ts";
   * const worker = randomStream(42, "data");
   * assert.ok(worker.fork(3).uniform() === randomStream(42, "data", 3).uniform());
   * ```
   */
  fork(...keys: StreamKey[]): Random {
    return new Random([...this.#keys, ...keys]);
  }
}

/** 32-bit left rotation. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The stream with coordinates `(seed, purpose, …indices)`, e.g.
 * `randomStream(plan.seed, "batches", rank, epoch)`. Equal coordinates give equal streams on
 * every machine; different coordinates give independent streams.
 *
 * @param seed The seed (a non-negative safe integer, such as the plan seed).
 * @param purpose What the stream is for, so different uses never share numbers.
 * @param indices Further coordinates: rank, epoch, layer.
 * @returns A fresh generator.
 * @throws {RangeError} When the seed or an index is not a non-negative safe integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomStream } from "./random.ts";
 * const rank0 = randomStream(42, "batches", 0);
 * const rank1 = randomStream(42, "batches", 1);
 * assert.ok(rank0.uniform() !== rank1.uniform());
 * ```
 */
export function randomStream(seed: number, purpose: string, ...indices: number[]): Random {
  return new Random([seed, purpose, ...indices]);
}
