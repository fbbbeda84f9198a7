import assert from "node:assert/strict";
import { bytesConn } from "../tests/_bytes_conn.ts";
import { decodeControl, encodeControl, readControl } from "./control.ts";
import { encodeFrame, FRAME_HEADER_BYTES } from "./comm/wire.ts";

async function readAll(conn: Deno.Conn, maxPayload?: number) {
  const messages = [];
  for await (const message of readControl(conn, maxPayload === undefined ? {} : { maxPayload })) {
    messages.push(message);
  }
  return messages;
}

Deno.test("a control message's body is aligned, so float parameters are viewed in place", () => {
  for (const type of ["a", "ab", "abc", "abcd"]) {
    const body = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const frame = encodeControl({ type }, body);
    const payload = frame.slice(FRAME_HEADER_BYTES);
    const decoded = decodeControl<{ type: string }>(payload);
    assert.equal(decoded.header.type, type);
    assert.equal(decoded.body.byteOffset % 4, 0);
    assert.deepEqual([...new Float32Array(decoded.body.buffer, decoded.body.byteOffset, 2)], [
      1.5,
      -2,
    ]);
  }
});

Deno.test("payloads that are not control messages are refused with a RangeError", () => {
  const refuse = (payload: Uint8Array, message: RegExp) =>
    assert.throws(() => decodeControl(payload), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, message);
      return true;
    });
  refuse(new Uint8Array(2), /overruns/);
  refuse(Uint8Array.of(200, 0, 0, 0, 1), /overruns/);
  refuse(encodeControl([1]).subarray(FRAME_HEADER_BYTES), /has no type/);
  refuse(encodeControl(null).subarray(FRAME_HEADER_BYTES), /has no type/);
  const notJson = encodeControl({ type: "x" }).slice(FRAME_HEADER_BYTES);
  notJson[4] = 0x7b + 1;
  refuse(notJson, /not JSON/);
});

Deno.test("reading a large control message takes time linear in its size", async () => {
  const body = new Uint8Array(48 << 20).fill(3);
  const frame = encodeControl({ type: "done" }, body);
  for (const chunk of [4096, 1 << 20]) {
    const start = performance.now();
    const [message] = await readAll(bytesConn(frame, chunk));
    const ms = performance.now() - start;
    assert.equal(message?.body.byteLength, body.byteLength);
    // 12 288 reads of 4 KiB: a reader that copied its buffer on every read would move
    // hundreds of gigabytes.
    assert.ok(ms < 3000, `reading 48 MiB in ${chunk}-byte chunks took ${ms} ms`);
  }
});

Deno.test("a control frame over the limit, or of another kind, is refused at its header", async () => {
  const header = encodeFrame({ tag: 0, phase: "control", source: 0 }, new Uint8Array(0));
  new DataView(header.buffer).setUint32(0, 1 << 30, true);
  const before = Deno.memoryUsage().rss;
  await assert.rejects(
    readAll(bytesConn(header, 12), 1 << 20),
    /Frame payload of 1073741824 bytes exceeds the maximum of 1048576 bytes/,
  );
  assert.ok(Deno.memoryUsage().rss - before < 256 << 20, "nothing was allocated for it");
  const heartbeat = encodeFrame(
    { tag: 0, phase: "control", source: 0, kind: 2 },
    new Uint8Array(0),
  );
  await assert.rejects(readAll(bytesConn(heartbeat, 64)), /unknown kind 2/);
  const cut = encodeControl({ type: "metrics" }).subarray(0, 14);
  await assert.rejects(readAll(bytesConn(cut, 64)), /ended inside a message/);
});
