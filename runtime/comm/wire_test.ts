import assert from "node:assert/strict";
import { PHASES } from "./types.ts";
import {
  bytesAsFloats,
  encodeFrame,
  floatsAsBytes,
  type Frame,
  FRAME_HEADER_BYTES,
  FRAME_HELLO,
  frameBytes,
  FrameDecoder,
} from "./wire.ts";

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("encodeFrame writes the documented little-endian header", () => {
  const frame = encodeFrame(
    { tag: 0x01020304, phase: "compressed", source: 0x0a0b, kind: FRAME_HELLO },
    new Uint8Array([0xff, 0xee]),
  );
  assert.deepEqual(
    [...frame],
    [2, 0, 0, 0, 4, 3, 2, 1, PHASES.indexOf("compressed"), FRAME_HELLO, 0x0b, 0x0a, 0xff, 0xee],
  );
  assert.equal(frame.byteLength, frameBytes(2));
  assert.equal(FRAME_HEADER_BYTES, 12);
});

Deno.test("frames survive random chunk splits", () => {
  const next = random(7);
  const sent = Array.from({ length: 60 }, (_, i) => ({
    tag: Math.floor(next() * 2 ** 32),
    phase: PHASES[i % PHASES.length]!,
    source: i,
    payload: Uint8Array.from(
      { length: i % 5 === 0 ? 0 : Math.floor(next() * 3000) },
      () => Math.floor(next() * 256),
    ),
  }));
  const stream = new Uint8Array(sent.reduce((n, f) => n + frameBytes(f.payload.byteLength), 0));
  let at = 0;
  for (const f of sent) {
    const frame = encodeFrame(f, f.payload);
    stream.set(frame, at);
    at += frame.byteLength;
  }
  for (const maxChunk of [1, 3, 13, 500, stream.byteLength]) {
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    for (let i = 0; i < stream.byteLength;) {
      const size = 1 + Math.floor(next() * maxChunk);
      got.push(...decoder.push(stream.subarray(i, i + size)));
      i += size;
    }
    assert.equal(decoder.partial, false);
    assert.equal(got.length, sent.length);
    got.forEach((frame, i) => {
      const expected = sent[i]!;
      assert.equal(frame.tag, expected.tag);
      assert.equal(frame.phase, expected.phase);
      assert.equal(frame.source, expected.source);
      assert.equal(frame.payload.byteOffset, 0);
      assert.deepEqual(frame.payload, expected.payload);
    });
  }
});

Deno.test("an empty payload completes with its header", () => {
  const decoder = new FrameDecoder();
  const frame = encodeFrame({ tag: 1, phase: "control", source: 3 }, new Uint8Array(0));
  assert.equal(frame.byteLength, FRAME_HEADER_BYTES);
  assert.deepEqual(decoder.push(frame.subarray(0, 11)), []);
  assert.equal(decoder.partial, true);
  const [got] = decoder.push(frame.subarray(11));
  assert.equal(got?.payload.byteLength, 0);
  assert.equal(decoder.partial, false);
});

Deno.test("the maximum frame size is enforced on both sides with a clear error", () => {
  const max = 16;
  const atMax = encodeFrame({ tag: 0, phase: "base", source: 0 }, new Uint8Array(max), max);
  assert.equal(new FrameDecoder(max).push(atMax)[0]?.payload.byteLength, max);
  assert.throws(
    () => encodeFrame({ tag: 0, phase: "base", source: 0 }, new Uint8Array(max + 1), max),
    { name: "RangeError", message: "Frame payload of 17 bytes exceeds the maximum of 16 bytes" },
  );
  const tooBig = encodeFrame({ tag: 0, phase: "base", source: 0 }, new Uint8Array(max + 1));
  assert.throws(() => new FrameDecoder(max).push(tooBig), {
    message: "Frame payload of 17 bytes exceeds the maximum of 16 bytes",
  });
});

Deno.test("encodeFrame rejects out-of-range header fields", () => {
  const payload = new Uint8Array(0);
  assert.throws(() => encodeFrame({ tag: 2 ** 32, phase: "base", source: 0 }, payload), {
    message: "Cannot encode frame: tag 4294967296 is outside 0..4294967295",
  });
  assert.throws(() => encodeFrame({ tag: 0, phase: "base", source: 65536 }, payload), RangeError);
  assert.throws(
    () => encodeFrame({ tag: 0, phase: "nope" as "base", source: 0 }, payload),
    { message: 'Cannot encode frame: unknown phase "nope"' },
  );
});

Deno.test("a frame with an unknown phase index is refused", () => {
  const frame = encodeFrame({ tag: 0, phase: "base", source: 0 }, new Uint8Array(0));
  frame[8] = 200;
  assert.throws(() => new FrameDecoder().push(frame), {
    message: "Cannot decode frame: unknown phase index 200",
  });
});

Deno.test("floats are viewed as bytes without copying, and back", () => {
  const floats = new Float32Array([1, -0, NaN, Infinity, 3.25]);
  const bytes = floatsAsBytes(floats);
  assert.equal(bytes.buffer, floats.buffer);
  const back = bytesAsFloats(bytes);
  assert.equal(back.buffer, floats.buffer);
  assert.deepEqual(new Uint8Array(back.buffer), new Uint8Array(floats.buffer));
  const sub = floatsAsBytes(floats.subarray(1, 3));
  assert.equal(sub.byteOffset, 4);
  assert.equal(sub.byteLength, 8);
});

Deno.test("unaligned bytes are copied into floats", () => {
  const floats = new Float32Array([1.5, -2.75]);
  const shifted = new Uint8Array(9);
  shifted.set(floatsAsBytes(floats), 1);
  const back = bytesAsFloats(shifted.subarray(1));
  assert.notEqual(back.buffer, shifted.buffer);
  assert.deepEqual([...back], [1.5, -2.75]);
  assert.throws(() => bytesAsFloats(new Uint8Array(6)), {
    message: "Cannot read float32 values: 6 bytes is not a multiple of 4",
  });
});

Deno.test("payload bytes can be read straight into the decoder's buffer", () => {
  const payload = Uint8Array.from({ length: 100 }, (_, i) => i);
  const frame = encodeFrame({ tag: 3, phase: "outer", source: 1 }, payload);
  const decoder = new FrameDecoder();
  assert.equal(decoder.unfilledPayload(), null);
  assert.deepEqual(decoder.push(frame.subarray(0, 20)), []);
  const rest = decoder.unfilledPayload()!;
  assert.equal(rest.byteLength, 92);
  rest.set(frame.subarray(20, 60));
  assert.equal(decoder.filledPayload(40), null);
  decoder.unfilledPayload()!.set(frame.subarray(60));
  const done = decoder.filledPayload(52);
  assert.equal(done?.tag, 3);
  assert.deepEqual(done?.payload, payload);
  assert.equal(decoder.unfilledPayload(), null);
  assert.throws(() => decoder.filledPayload(1), RangeError);
});

Deno.test("the decoder takes payload buffers from the given allocator", () => {
  const recycled = new Uint8Array(3);
  const decoder = new FrameDecoder(100, (bytes) => bytes === 3 ? recycled : new Uint8Array(bytes));
  const [frame] = decoder.push(encodeFrame({ tag: 0, phase: "base", source: 0 }, bytesOf(1, 2, 3)));
  assert.equal(frame?.payload, recycled);
  assert.deepEqual([...recycled], [1, 2, 3]);
});

function bytesOf(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

Deno.test("a decoder with a trailer hands on the bytes after each payload, in any chunking", () => {
  const next = random(11);
  const sent = Array.from({ length: 40 }, (_, i) => ({
    tag: i,
    phase: PHASES[i % PHASES.length]!,
    source: i,
    payload: Uint8Array.from({ length: i % 4 === 0 ? 0 : Math.floor(next() * 900) }, () => i),
    trailer: Uint8Array.from({ length: 16 }, (_, j) => 255 - i - j),
  }));
  const parts = sent.flatMap((f) => [encodeFrame(f, f.payload), f.trailer]);
  const stream = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  parts.reduce((at, part) => (stream.set(part, at), at + part.byteLength), 0);
  for (const maxChunk of [1, 7, 29, 1000, stream.byteLength]) {
    const decoder = new FrameDecoder(undefined, undefined, { trailerBytes: 16 });
    const got: Frame[] = [];
    for (let i = 0; i < stream.byteLength;) {
      const size = 1 + Math.floor(next() * maxChunk);
      got.push(...decoder.push(stream.subarray(i, i + size)));
      i += size;
    }
    assert.equal(decoder.partial, false);
    assert.deepEqual(
      got.map((f) => [f.tag, [...f.payload], [...f.trailer!]]),
      sent.map((f) => [f.tag, [...f.payload], [...f.trailer]]),
    );
  }
});

Deno.test("a payload read straight into the decoder waits for its trailer", () => {
  const payload = Uint8Array.from({ length: 100 }, (_, i) => i);
  const frame = encodeFrame({ tag: 5, phase: "base", source: 2 }, payload);
  const decoder = new FrameDecoder(undefined, undefined, { trailerBytes: 4 });
  assert.deepEqual(decoder.push(frame.subarray(0, 12)), []);
  decoder.unfilledPayload()!.set(payload);
  assert.equal(decoder.filledPayload(100), null);
  assert.equal(decoder.partial, true);
  assert.equal(decoder.unfilledPayload()!.byteLength, 0);
  assert.deepEqual(decoder.push(new Uint8Array([9, 8])), []);
  const [done] = decoder.push(new Uint8Array([7, 6, 1, 2]).subarray(0, 2));
  assert.deepEqual([done!.tag, [...done!.trailer!]], [5, [9, 8, 7, 6]]);
  assert.deepEqual(done!.payload, payload);
  assert.equal(decoder.partial, false);
});
