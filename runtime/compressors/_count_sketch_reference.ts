/**
 * The count sketch as it was before its loops were tuned (issue 23): row by row, a `Uint32Array`
 * slot per row and coordinate, the estimates through a `rows × d` scratch table. Kept unchanged
 * as the reference the tests hold `CountSketch` (`sketched_sgd.ts`) to, bit for bit, and as the "before"
 * of `bench/sketch_bench.ts`. Not part of the public API.
 *
 * @module
 */

/** Mixes a 32-bit word (the murmur3 finaliser): a seeded hash for the buckets and signs. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The smaller of two numbers without a branch: `(a + b − |a − b|) / 2`. The counters' order is a
 * coin toss, which costs a branch (and `Math.min`'s own checks) a misprediction half the time;
 * for float32 values the arithmetic is exact in float64.
 */
function lower(a: number, b: number): number {
  return 0.5 * (a + b - Math.abs(a - b));
}

/** The larger of two numbers without a branch (see {@linkcode lower}). */
function upper(a: number, b: number): number {
  return 0.5 * (a + b + Math.abs(a - b));
}

/** The median of three numbers. */
function median3(a: number, b: number, c: number): number {
  return upper(lower(a, b), lower(upper(a, b), c));
}

/**
 * The median of five numbers: of the two pairs, the larger minimum and the smaller maximum
 * bracket the median with the fifth value.
 */
function median5(a: number, b: number, c: number, d: number, e: number): number {
  return median3(upper(lower(a, b), lower(c, d)), lower(upper(a, b), upper(c, d)), e);
}

/** The greatest common divisor. */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A count sketch of `rows × cols` counters for vectors of `d` values, with hashes every worker
 * derives from the same seed: row `r` sends coordinate `j` to bucket `h_r(j)` with sign `σ_r(j)`.
 * With `cols ≥ d` each row's buckets are a permutation (`h_r(j) = (a_r j + b_r) mod cols`, `a_r`
 * coprime to `cols`), so the sketch has no collisions; otherwise the buckets come from a seeded
 * mixing hash. Bucket and sign are computed once per coordinate and row.
 */
export class CountSketchReference {
  readonly rows: number;
  readonly cols: number;
  readonly d: number;
  /** Per row and coordinate: the bucket, with the sign in the top bit. */
  readonly #slots: Uint32Array;
  /** Per row and coordinate: the signed counter, while estimating (allocated once). */
  #scratch: Float32Array | null = null;
  /** The same for float64 tables ({@linkcode CountSketchReference.estimates64}). */
  #scratch64: Float64Array | null = null;

  /**
   * @param rows Rows (independent hashes).
   * @param cols Counters per row.
   * @param d The vector length.
   * @param seed The shared seed.
   */
  constructor(rows: number, cols: number, d: number, seed: number) {
    this.rows = rows;
    this.cols = cols;
    this.d = d;
    this.#slots = new Uint32Array(rows * d);
    for (let r = 0; r < rows; r++) {
      const key = mix(seed ^ mix(r + 1));
      let a = 1 + (mix(key ^ 0x51ed27) % Math.max(1, cols - 1));
      while (gcd(a, cols) !== 1) a++;
      const b = mix(key ^ 0x2545f491) % cols;
      for (let j = 0; j < d; j++) {
        const bucket = cols >= d ? (a * j + b) % cols : mix(key ^ mix(j)) % cols;
        const negative = mix(key ^ mix(j ^ 0x6a09e667)) >>> 31;
        this.#slots[r * d + j] = bucket | (negative << 31);
      }
    }
  }

  /**
   * Adds the sketch of `values` to `table` (`rows × cols`, row by row).
   *
   * @param values A vector of `d` values.
   * @param table The counters, updated in place.
   */
  accumulate(values: Float32Array, table: Float32Array): void {
    const { rows, cols, d } = this;
    const slots = this.#slots;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const offset = r * d;
      for (let j = 0; j < d; j++) {
        const slot = slots[offset + j]!;
        // The sign multiplies rather than branches: it is a coin toss per coordinate.
        const at = base + (slot & 0x7fffffff);
        table[at] = table[at]! + (1 - 2 * (slot >>> 31)) * values[j]!;
      }
    }
  }

  /**
   * Writes each row's signed counter of every coordinate, `σ_r(j) · S[r, h_r(j)]`, row by row
   * (sequential memory) into `signed` (`rows × d`).
   */
  #signedCounters(table: Float32Array | Float64Array, signed: Float32Array | Float64Array): void {
    const { rows, cols, d } = this;
    const slots = this.#slots;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const offset = r * d;
      for (let j = 0; j < d; j++) {
        const slot = slots[offset + j]!;
        signed[offset + j] = (1 - 2 * (slot >>> 31)) * table[base + (slot & 0x7fffffff)]!;
      }
    }
  }

  /**
   * The estimate of every coordinate from a table: the median over rows of `σ_r(j) S[r, h_r(j)]`.
   *
   * @param table The counters.
   * @returns `d` estimates.
   */
  estimates(table: Float32Array): Float32Array {
    const { rows, d } = this;
    const signed = this.#scratch ??= new Float32Array(rows * d);
    this.#signedCounters(table, signed);
    const out = new Float32Array(d);
    if (rows === 1) {
      out.set(signed.subarray(0, d));
    } else if (rows === 3) {
      for (let j = 0; j < d; j++) out[j] = median3(signed[j]!, signed[d + j]!, signed[2 * d + j]!);
    } else if (rows === 5) {
      for (let j = 0; j < d; j++) {
        out[j] = median5(
          signed[j]!,
          signed[d + j]!,
          signed[2 * d + j]!,
          signed[3 * d + j]!,
          signed[4 * d + j]!,
        );
      }
    } else {
      sortedMedians(signed, rows, d, out);
    }
    return out;
  }

  /**
   * The estimates of a float64 table (FetchSGD's error sketch, §3.5), at full precision: the
   * median over rows by `Math.min`/`Math.max` (exact for any values, where the branchless
   * arithmetic of {@linkcode CountSketchReference.estimates} would round float64 sums), the mean of the
   * two middle values for an even number of rows.
   *
   * @param table The counters, `rows × cols`.
   * @returns `d` estimates.
   */
  estimates64(table: Float64Array): Float64Array {
    const { rows, d } = this;
    const signed = this.#scratch64 ??= new Float64Array(rows * d);
    this.#signedCounters(table, signed);
    const out = new Float64Array(d);
    if (rows === 1) {
      out.set(signed.subarray(0, d));
    } else if (rows === 3) {
      for (let j = 0; j < d; j++) {
        out[j] = exactMedian3(signed[j]!, signed[d + j]!, signed[2 * d + j]!);
      }
    } else if (rows === 5) {
      for (let j = 0; j < d; j++) {
        const a = signed[j]!, b = signed[d + j]!, c = signed[2 * d + j]!, e = signed[3 * d + j]!;
        // As median5: the larger of the pairs' minima, the smaller of their maxima, the fifth.
        out[j] = exactMedian3(
          Math.max(Math.min(a, b), Math.min(c, e)),
          Math.min(Math.max(a, b), Math.max(c, e)),
          signed[4 * d + j]!,
        );
      }
    } else {
      sortedMedians(signed, rows, d, out);
    }
    return out;
  }

  /**
   * Zeroes, in every row, the bucket each of `coordinates` hashes to (FetchSGD removes what it
   * applied from its sketches, §3.5). Other coordinates sharing those buckets lose their share.
   *
   * @param coordinates Coordinates in `[0, d)`.
   * @param table The counters, `rows × cols`, updated in place.
   */
  clearBuckets(coordinates: ArrayLike<number>, table: Float32Array | Float64Array): void {
    const { rows, cols, d } = this;
    const slots = this.#slots;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < coordinates.length; i++) {
        table[r * cols + (slots[r * d + coordinates[i]!]! & 0x7fffffff)] = 0;
      }
    }
  }
}

/** The median of three numbers by `Math.min`/`Math.max`: exact for any float64 values. */
function exactMedian3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/**
 * Medians over rows by sorting each coordinate's column (any number of rows; for an even number,
 * the mean of the two middle values).
 *
 * @param signed Signed counters, `rows × d`, row by row.
 * @param rows Rows.
 * @param d Coordinates.
 * @param out The `d` medians, written.
 */
function sortedMedians(
  signed: Float32Array | Float64Array,
  rows: number,
  d: number,
  out: Float32Array | Float64Array,
): void {
  const column = new Float64Array(rows);
  for (let j = 0; j < d; j++) {
    for (let r = 0; r < rows; r++) column[r] = signed[r * d + j]!;
    column.sort();
    out[j] = rows % 2 === 1 ? column[rows >>> 1]! : (column[rows / 2 - 1]! + column[rows / 2]!) / 2;
  }
}
