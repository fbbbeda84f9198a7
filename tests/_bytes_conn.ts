/**
 * For tests: a connection that only reads, over fixed bytes, so decoders that read a stream
 * (`readControl`, the handshake reader) can be fed any bytes in any chunking.
 *
 * @module
 */

/**
 * A readable connection over `bytes`, handed out in chunks of at most `chunk` bytes; it ends
 * (reads `null`) after the last byte. Only `read` is implemented.
 *
 * @param bytes What the connection yields.
 * @param chunk The most bytes one read returns.
 * @returns The connection.
 */
export function bytesConn(bytes: Uint8Array, chunk: number): Deno.Conn {
  let at = 0;
  return {
    read(into: Uint8Array): Promise<number | null> {
      if (at >= bytes.byteLength) return Promise.resolve(null);
      const n = Math.min(chunk, into.byteLength, bytes.byteLength - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
  } as unknown as Deno.Conn;
}
