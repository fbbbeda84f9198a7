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
