import assert from "node:assert/strict";
import { packBits, packedBytes, unpackBits } from "./_bits.ts";

Deno.test("packBits writes values least significant bit first", () => {
  const out = new Uint8Array(packedBytes(3, 3));
  packBits([1, 2, 7], 3, out);
  // 1 = 001, 2 = 010, 7 = 111 → bits (LSB first) 1 0 0 | 0 1 0 | 1 1 1 → 0b11_010_001, 0b1
  assert.deepEqual([...out], [0b11010001, 0b1]);
});

Deno.test("unpackBits inverts packBits at every width from 1 to 32", () => {
  for (let bits = 1; bits <= 32; bits++) {
    const limit = 2 ** bits;
    const values = [0, limit - 1, Math.floor(limit / 3), 1 % limit, Math.floor(limit / 2)];
    const out = new Uint8Array(2 + packedBytes(values.length, bits));
    packBits(values, bits, out, 2);
    assert.deepEqual([...unpackBits(out, bits, values.length, 2)], values, `${bits} bits`);
  }
});

Deno.test("packBits and unpackBits refuse what does not fit", () => {
  assert.throws(() => packBits([8], 3, new Uint8Array(1)), /Cannot pack 8 in 3 bits/);
  assert.throws(() => packBits([1], 0, new Uint8Array(1)), /Bit width/);
  assert.throws(() => unpackBits(new Uint8Array(1), 5, 2), /Cannot unpack 2 values of 5 bits/);
});

Deno.test("packBits and unpackBits agree with a bit-by-bit packer at every width and offset", () => {
  for (let bits = 1; bits <= 32; bits++) {
    for (const count of [1, 7, 8, 9, 33, 100]) {
      let seed = bits * 1000 + count;
      const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      const values = Array.from({ length: count }, () => bits === 32 ? next() : next() % 2 ** bits);
      // Value i's bit k goes to stream bit i·bits + k, stream bit b to byte b >> 3, bit b & 7.
      const expected = new Uint8Array(3 + packedBytes(count, bits));
      values.forEach((value, i) => {
        for (let k = 0; k < bits; k++) {
          const b = i * bits + k;
          if (Math.floor(value / 2 ** k) % 2 === 1) expected[3 + (b >> 3)]! |= 1 << (b & 7);
        }
      });
      const out = new Uint8Array(expected.length);
      packBits(values, bits, out, 3);
      assert.deepEqual(out, expected, `${bits} bits, ${count} values`);
      assert.deepEqual([...unpackBits(expected, bits, count, 3)], values, `${bits} bits`);
    }
  }
});
