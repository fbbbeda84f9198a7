/**
 * 100,000 random and mutated inputs against the pure decoders a stranger's bytes reach: the
 * frame decoder (40,000 streams), the handshake decoders and reader (30,000 messages) and the
 * control-message decoder (30,000 payloads, 2,000 of them as streams through `readControl`).
 * Each input either decodes into something well-formed or is refused with the decoder's own
 * error; nothing else is thrown, nothing larger than the limit is allocated, the heap stays
 * bounded, and every test ends in seconds.
 */

import assert from "node:assert/strict";
import { bytesConn } from "../_bytes_conn.ts";
import { mutate, Random, randomOfferFrame } from "./_hostile.ts";
import {
  COORDINATOR,
  decodeChallenge,
  decodeOffer,
  decodeProof,
  decodeVerdict,
  encodeChallenge,
  encodeOffer,
  encodeProof,
  encodeVerdict,
  HANDSHAKE_MAX_PAYLOAD,
  HandshakeError,
  handshakeFrame,
  HandshakeReader,
  VERDICT,
} from "../../runtime/comm/handshake.ts";
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_KINDS,
  FrameDecoder,
  PHASES,
} from "../../runtime/comm/mod.ts";
import { decodeControl, encodeControl, readControl } from "../../runtime/control.ts";

/** The heap may grow this much over a test (garbage not yet collected included). */
const HEAP_BOUND_BYTES = 96 << 20;

/** Each test must end within this, on a 2-core CI machine. */
const TIME_BOUND_MS = 30_000;

/** Runs `body`, then checks its time and the heap's growth. */
async function bounded(body: () => Promise<void> | void): Promise<void> {
  const heap = Deno.memoryUsage().heapUsed;
  const start = performance.now();
  await body();
  const ms = performance.now() - start;
  const grown = Deno.memoryUsage().heapUsed - heap;
  assert.ok(ms < TIME_BOUND_MS, `took ${ms} ms`);
  assert.ok(grown < HEAP_BOUND_BYTES, `the heap grew by ${grown} bytes`);
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes.subarray(0, 64), (b) => b.toString(16).padStart(2, "0")).join("");

/** Calls `decode`; an error must be an instance of `expected`, else the input is reported. */
function survives<T>(
  input: Uint8Array,
  expected: abstract new (...args: never[]) => Error,
  decode: () => T,
): T | null {
  try {
    return decode();
  } catch (error) {
    if (error instanceof expected) return null;
    throw new Error(`Unexpected ${String(error)} for input ${hex(input)}`);
  }
}

/** A stream of frames: valid ones, mutated ones, or plain random bytes. */
function randomStream(random: Random): Uint8Array {
  switch (random.int(4)) {
    case 0:
      return random.bytes(random.int(120));
    case 1: {
      const header = random.bytes(FRAME_HEADER_BYTES);
      return new Uint8Array([...header, ...random.bytes(random.int(40))]);
    }
    default: {
      const frames = Array.from({ length: 1 + random.int(3) }, () =>
        encodeFrame(
          {
            tag: random.int(2 ** 32),
            phase: random.pick(PHASES),
            source: random.int(65536),
            kind: random.pick(FRAME_KINDS),
          },
          random.bytes(random.int(300)),
        ));
      const stream = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
      let at = 0;
      for (const frame of frames) {
        stream.set(frame, at);
        at += frame.byteLength;
      }
      return random.int(3) === 0 ? stream : mutate(random, stream);
    }
  }
}

Deno.test("the frame decoder survives 40,000 random and mutated streams", () =>
  bounded(() => {
    const random = new Random(11);
    const limit = 1024;
    let largest = 0;
    let decoded = 0;
    let refused = 0;
    for (let i = 0; i < 40_000; i++) {
      const stream = randomStream(random);
      const decoder = new FrameDecoder(limit, (bytes) => {
        largest = Math.max(largest, bytes);
        return new Uint8Array(bytes);
      }, { kinds: i % 2 === 0 ? FRAME_KINDS : [0, 2] });
      const frames = survives(stream, RangeError, () => {
        const out = [];
        for (let at = 0; at < stream.byteLength;) {
          const size = 1 + random.int(64);
          out.push(...decoder.push(stream.subarray(at, at + size)));
          at += size;
        }
        return out;
      });
      if (frames === null) {
        refused++;
        continue;
      }
      for (const frame of frames) {
        decoded++;
        assert.ok(frame.payload.byteLength <= limit);
        assert.ok(FRAME_KINDS.includes(frame.kind));
        assert.ok(PHASES.includes(frame.phase));
        assert.equal(frame.payload.byteOffset, 0);
      }
    }
    assert.ok(largest <= limit, `allocated ${largest} bytes past the ${limit}-byte limit`);
    assert.ok(decoded > 1000 && refused > 1000, `${decoded} decoded, ${refused} refused`);
  }));

/** A valid handshake payload of a random type. */
function randomHandshakePayload(random: Random): Uint8Array {
  switch (random.int(4)) {
    case 0:
      return encodeOffer({
        channel: random.pick(["control", "mesh"] as const),
        rank: random.int(65536),
        world: random.int(65536),
        target: random.int(65536),
        runId: random.bytes(16),
        planHash: random.bytes(32),
        nonce: random.bytes(32),
      });
    case 1:
      return encodeChallenge({
        channel: random.pick(["control", "mesh"] as const),
        rank: random.pick([COORDINATOR, random.int(100)]),
        world: random.int(100),
        runId: random.bytes(16),
        planHash: random.bytes(32),
        nonce: random.bytes(32),
      });
    case 2:
      return encodeProof(random.bytes(32));
    default:
      return encodeVerdict({
        status: random.pick(Object.values(VERDICT)),
        reason: new TextDecoder().decode(random.bytes(random.int(500))),
      });
  }
}

Deno.test("the handshake decoders and reader survive 30,000 random and mutated messages", () =>
  bounded(() => {
    const random = new Random(12);
    const decoders = [decodeOffer, decodeChallenge, decodeProof, decodeVerdict];
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const valid = randomHandshakePayload(random);
      const payload = i % 5 === 0 ? random.bytes(random.int(200)) : mutate(random, valid);
      for (const decode of decoders) {
        if (survives(payload, HandshakeError, () => decode(payload)) !== null) accepted++;
      }
    }
    assert.ok(accepted > 100, `only ${accepted} mutated messages still decoded`);
    // The reader meets whole streams: frames of every kind, sizes and splits.
    for (let i = 0; i < 10_000; i++) {
      const valid = i % 2 === 0
        ? randomOfferFrame(random)
        : handshakeFrame(random.int(4), randomHandshakePayload(random));
      const stream = i % 7 === 0 ? random.bytes(random.int(700)) : mutate(random, valid);
      const reader = new HandshakeReader();
      survives(stream, HandshakeError, () => {
        for (let at = 0; at < stream.byteLength;) {
          const size = Math.min(1 + random.int(200), stream.byteLength - at);
          reader.feed(stream.subarray(at, at + size));
          at += size;
          let frame;
          while ((frame = reader.take()) !== null) {
            assert.ok(frame.payload.byteLength <= HANDSHAKE_MAX_PAYLOAD);
          }
        }
        return true;
      });
    }
  }));

/** A valid control message of a random shape. */
function randomControl(random: Random): Uint8Array {
  const headers = [
    { type: "hello", rank: random.int(4), address: "127.0.0.1:1" },
    { type: "metrics", lines: [{ type: "step", step: random.int(9) }] },
    { type: "done", rank: random.int(4), parameters: random.int(10) },
    { type: "abort", reason: "x".repeat(random.int(50)) },
  ];
  return encodeControl(random.pick(headers), random.bytes(4 * random.int(20)));
}

Deno.test("the control decoder survives 30,000 random and mutated payloads and streams", () =>
  bounded(async () => {
    const random = new Random(13);
    let decoded = 0;
    for (let i = 0; i < 28_000; i++) {
      const frame = randomControl(random);
      const payload = i % 6 === 0
        ? random.bytes(random.int(100))
        : mutate(random, frame.subarray(FRAME_HEADER_BYTES));
      const message = survives(payload, RangeError, () => decodeControl(payload));
      if (message === null) continue;
      decoded++;
      assert.equal(typeof (message.header as { type: unknown }).type, "string");
      assert.ok(message.body.byteLength <= payload.byteLength);
    }
    assert.ok(decoded > 1000, `only ${decoded} payloads decoded`);
    for (let i = 0; i < 2_000; i++) {
      const stream = mutate(random, randomControl(random));
      try {
        for await (
          const _ of readControl(bytesConn(stream, 1 + random.int(64)), {
            maxPayload: 4096,
          })
        ) { /* each message is well-formed, or the stream is refused */ }
      } catch (error) {
        if (!(error instanceof RangeError)) {
          throw new Error(`Unexpected ${String(error)} for stream ${hex(stream)}`);
        }
      }
    }
  }));
