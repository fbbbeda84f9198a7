/**
 * An on-path attacker for the security tests: a TCP forwarder between a client and a server of
 * the run (a worker and the coordinator, or two mesh peers) that lets the handshake through
 * untouched and then hands every later frame of one direction to a rewriter, which may change
 * its bytes, drop it, or send it twice. It knows the wire format (`runtime/comm/wire.ts`), not
 * the secret.
 *
 * @module
 */

import { FRAME_HEADER_BYTES, FRAME_HELLO } from "../../runtime/comm/wire.ts";

/**
 * Decides what becomes of one frame after the handshake.
 *
 * @param frame The whole frame (header and payload), a copy the rewriter may change.
 * @param index How many frames after the handshake came before it in this direction.
 * @returns The frames to forward in its place: `[frame]` to pass it, `[]` to drop it,
 *   `[frame, frame]` to replay it.
 */
export type Rewriter = (frame: Uint8Array, index: number) => Uint8Array[];

/** Frames pass unchanged. */
export const untouched: Rewriter = (frame) => [frame];

/** A running proxy. */
export interface Proxy {
  /** `127.0.0.1:port`, for the client to dial. */
  readonly address: string;
  /** How many frames each rewriter saw, by direction. */
  readonly seen: { upstream: number; downstream: number };
  /** Closes the listener and every forwarded connection, and waits for them. */
  close(): Promise<void>;
}

/**
 * Starts a proxy that forwards every connection it accepts to `target`.
 *
 * @param target The server's `host:port`.
 * @param upstream Rewrites the client's frames (worker → coordinator).
 * @param downstream Rewrites the server's frames (default: untouched).
 * @param trailer Bytes that follow each frame after the handshake (a MAC: the protocol is
 *   public, so the attacker knows it), handed to the rewriter as part of the frame.
 * @returns The proxy.
 */
export function startProxy(
  target: string,
  upstream: Rewriter,
  downstream: Rewriter = untouched,
  trailer = 0,
): Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [hostname, port] = [target.slice(0, target.lastIndexOf(":")), target.split(":").pop()];
  const conns = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  const seen = { upstream: 0, downstream: 0 };
  const accepting = (async () => {
    for await (const client of listener) {
      conns.add(client);
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname, port: Number(port) });
      } catch {
        client.close();
        continue;
      }
      conns.add(server);
      const end = () => {
        for (const conn of [client, server]) {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      };
      pumps.push(
        pump(client, server, upstream, trailer, (n) => seen.upstream = n).finally(end),
        pump(server, client, downstream, trailer, (n) => seen.downstream = n).finally(end),
      );
    }
  })().catch(() => {});
  return {
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    async close() {
      try {
        listener.close();
      } catch { /* closed */ }
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
      await Promise.allSettled(pumps);
    },
  };
}

/** Copies frames from `from` to `to`, handshake frames as they are, later ones rewritten. */
async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  rewrite: Rewriter,
  trailer: number,
  counted: (frames: number) => void,
): Promise<void> {
  let buffer = new Uint8Array(0);
  let index = 0;
  const chunk = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(chunk);
      if (n === null) return;
      const joined = new Uint8Array(buffer.byteLength + n);
      joined.set(buffer);
      joined.set(chunk.subarray(0, n), buffer.byteLength);
      buffer = joined;
      while (buffer.byteLength >= FRAME_HEADER_BYTES) {
        const view = new DataView(buffer.buffer, buffer.byteOffset);
        const hello = buffer[9] === FRAME_HELLO;
        const end = FRAME_HEADER_BYTES + view.getUint32(0, true) + (hello ? 0 : trailer);
        if (buffer.byteLength < end) break;
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end);
        const out = hello ? [frame] : rewrite(frame, index++);
        counted(index);
        for (const part of out) await writeAll(to, part);
      }
    }
  } catch { /* either side closed */ }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) at += await conn.write(bytes.subarray(at));
}

/**
 * The JSON header of a control frame (`runtime/control.ts`), or `null` when the frame is not
 * one.
 *
 * @param frame A whole frame.
 * @returns The parsed header.
 */
export function controlHeader(frame: Uint8Array): Record<string, unknown> | null {
  try {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const json = view.getUint32(FRAME_HEADER_BYTES, true);
    const text = new TextDecoder().decode(
      frame.subarray(FRAME_HEADER_BYTES + 4, FRAME_HEADER_BYTES + 4 + json),
    );
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Sets every parameter of a `done` control frame to `value`, in place (what the attack of
 * issue 20 did: worker 0's parameters all 42.0).
 *
 * @param frame A whole `done` frame.
 * @param value The value written.
 */
export function rewriteParameters(frame: Uint8Array, value: number): void {
  const header = controlHeader(frame)!;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const json = view.getUint32(FRAME_HEADER_BYTES, true);
  const body = FRAME_HEADER_BYTES + Math.ceil((4 + json) / 4) * 4;
  for (let i = 0; i < Number(header.parameters); i++) {
    view.setFloat32(body + 4 * i, value, true);
  }
}
