import assert from "node:assert/strict";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "./safetensors.ts";

Deno.test("safetensors round-trips float32 and float64 vectors, empty ones and metadata", () => {
  const tensors = [
    { name: "worker0/x", data: Float32Array.of(1.5, -2, 3e-8) },
    { name: "worker0/slowMo.momentum", data: Float64Array.of(0.1, 1 / 3) },
    { name: "empty", data: new Float32Array(0) },
  ];
  const bytes = encodeSafetensors(tensors, { step: "7", plan: "abc" });
  // The header (8 + JSON padded to 8) keeps every tensor aligned.
  const headerBytes = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerBytes % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], ["worker0/x", "worker0/slowMo.momentum", "empty"]);
  assert.deepEqual(back.tensors.get("worker0/x"), tensors[0]!.data);
  assert.deepEqual(back.tensors.get("worker0/slowMo.momentum"), tensors[1]!.data);
  assert.ok(back.tensors.get("worker0/slowMo.momentum") instanceof Float64Array);
  assert.deepEqual(back.metadata, { step: "7", plan: "abc" });
});

Deno.test("safetensors reads a file written by hand, as the format specifies", () => {
  // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} then 1.0 and 2.0 little-endian.
  const json = new TextEncoder().encode('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
  const bytes = new Uint8Array(8 + json.length + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  new DataView(bytes.buffer).setFloat32(8 + json.length, 1, true);
  new DataView(bytes.buffer).setFloat32(8 + json.length + 4, 2, true);
  assert.deepEqual([...decodeSafetensors(bytes).tensors.get("a")!], [1, 2]);
});

Deno.test("safetensors refuses damaged files with a message, before allocating", () => {
  const good = encodeSafetensors([{ name: "a", data: Float32Array.of(1, 2) }]);
  const header = (text: string, extra = 0) => {
    const json = new TextEncoder().encode(text);
    const bytes = new Uint8Array(8 + json.length + extra);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    return bytes;
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 5), /too short/],
    [
      (() => {
        const bytes = good.slice();
        new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
        return bytes;
      })(),
      /header claims 1099511627776 bytes/,
    ],
    [header("{not json"), /not JSON/],
    [header("[1]"), /not a JSON object/],
    [header('{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}', 1), /dtype "I8"/],
    [header('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8), /data_offsets/],
    [header('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), /shape \[3\]/],
    [header('{"__metadata__":{"n":1}}'), /metadata "n" is not a string/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => decodeSafetensors(bytes), (error: Error) => {
      assert.ok(error instanceof SafetensorsError, error.message);
      assert.match(error.message, message);
      return true;
    });
  }
});
