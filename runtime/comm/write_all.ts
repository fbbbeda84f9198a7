/**
 * Writing a whole buffer to a socket, for the mesh links and the control channel alike.
 *
 * @module
 */

/**
 * Writes all of `bytes` (a single `write` may write fewer), calling `written` with the size of
 * every partial write so callers can count bytes where they reach the socket.
 *
 * @param conn The connection.
 * @param bytes What to write (not copied: do not change it until the promise resolves).
 * @param written Called with the bytes of every partial write.
 * @returns Resolves once every byte is written.
 * @throws {Deno.errors.BrokenPipe} (or another socket error) When the connection fails.
 */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
  written: (bytes: number) => void = () => {},
): Promise<void> {
  let at = 0;
  while (at < bytes.byteLength) {
    const n = await conn.write(bytes.subarray(at));
    written(n);
    at += n;
  }
}
