/**
 * Packing unsigned integers at a fixed bit width, least significant bit first, for codecs that
 * send indices or levels in fewer bits than a byte-aligned type would take.
 *
 * @module
 */

/**
 * Bytes needed for `count` values of `bits` bits.
 *
 * @param count How many values.
 * @param bits Bits per value.
 * @returns `⌈count · bits / 8⌉`.
 */
export function packedBytes(count: number, bits: number): number {
  return Math.ceil(count * bits / 8);
}

/**
 * Writes `values` at `bits` bits each into `out` from byte `at`, least significant bit first.
 *
 * @param values Unsigned integers below `2^bits`.
 * @param bits Bits per value, 1 to 32.
 * @param out The destination; `packedBytes(values.length, bits)` bytes from `at` are written.
 * @param at The first byte to write.
 * @throws {RangeError} When `bits` is outside 1..32 or a value does not fit.
 */
export function packBits(
  values: ArrayLike<number>,
  bits: number,
  out: Uint8Array,
  at = 0,
): void {
  checkBits(bits);
  const limit = 2 ** bits;
  if (bits <= FAST_BITS) {
    packNarrow(values, bits, limit, out, at);
    return;
  }
  let byte = 0;
  let filled = 0;
  let position = at;
  for (let i = 0; i < values.length; i++) {
    let value = values[i]!;
    if (!(value >= 0 && value < limit) || !Number.isInteger(value)) {
      throw new RangeError(`Cannot pack ${value} in ${bits} bits`);
    }
    let remaining = bits;
    while (remaining > 0) {
      const take = Math.min(8 - filled, remaining);
      byte |= (value % (1 << take)) << filled;
      value = Math.floor(value / (1 << take));
      filled += take;
      remaining -= take;
      if (filled === 8) {
        out[position++] = byte;
        byte = 0;
        filled = 0;
      }
    }
  }
  if (filled > 0) out[position] = byte;
}

/**
 * Reads `count` values of `bits` bits from `bytes` from byte `at` (the inverse of
 * {@linkcode packBits}).
 *
 * @param bytes The packed bytes.
 * @param bits Bits per value, 1 to 32.
 * @param count How many values.
 * @param at The first byte to read.
 * @returns The values.
 * @throws {RangeError} When `bits` is outside 1..32 or the bytes are too short.
 */
export function unpackBits(bytes: Uint8Array, bits: number, count: number, at = 0): Uint32Array {
  checkBits(bits);
  if (bytes.length - at < packedBytes(count, bits)) {
    throw new RangeError(
      `Cannot unpack ${count} values of ${bits} bits from ${bytes.length - at} bytes`,
    );
  }
  const values = new Uint32Array(count);
  if (bits <= FAST_BITS) {
    unpackNarrow(bytes, bits, values, at);
    return values;
  }
  let position = at;
  let byte = bytes[position] ?? 0;
  let used = 0;
  for (let i = 0; i < count; i++) {
    let value = 0;
    let got = 0;
    while (got < bits) {
      if (used === 8) {
        byte = bytes[++position]!;
        used = 0;
      }
      const take = Math.min(8 - used, bits - got);
      value += ((byte >>> used) & ((1 << take) - 1)) * 2 ** got;
      used += take;
      got += take;
    }
    values[i] = value;
  }
  return values;
}

/**
 * Widths up to this many bits go through a 32-bit accumulator (at most 7 bits waiting plus one
 * value: 31 bits, a non-negative small integer), a shift and an OR per value and a store per
 * byte; wider ones through the general loops, which split values across bytes arithmetically.
 * Both write the same bytes.
 */
const FAST_BITS = 24;

/** {@linkcode packBits} for `bits ≤ FAST_BITS`. */
function packNarrow(
  values: ArrayLike<number>,
  bits: number,
  limit: number,
  out: Uint8Array,
  at: number,
): void {
  let bitsWaiting = 0;
  let filled = 0;
  let position = at;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    // Below 2^24, `(value | 0) === value` is Number.isInteger.
    if (!(value >= 0 && value < limit && (value | 0) === value)) {
      throw new RangeError(`Cannot pack ${value} in ${bits} bits`);
    }
    bitsWaiting |= value << filled;
    filled += bits;
    while (filled >= 8) {
      out[position++] = bitsWaiting & 255;
      bitsWaiting >>>= 8;
      filled -= 8;
    }
  }
  if (filled > 0) out[position] = bitsWaiting;
}

/** {@linkcode unpackBits} for `bits ≤ FAST_BITS`, into `values`. */
function unpackNarrow(bytes: Uint8Array, bits: number, values: Uint32Array, at: number): void {
  const mask = (1 << bits) - 1;
  let bitsRead = 0;
  let filled = 0;
  let position = at;
  for (let i = 0; i < values.length; i++) {
    while (filled < bits) {
      bitsRead |= bytes[position++]! << filled;
      filled += 8;
    }
    values[i] = bitsRead & mask;
    bitsRead >>>= bits;
    filled -= bits;
  }
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) {
    throw new RangeError(`Bit width must be an integer in 1..32, got ${bits}`);
  }
}
