/**
 * One large TCP transfer between two processes, to measure what a (shaped) link carries:
 *
 *   deno run -A tests/cluster/_transfer.ts receive HOST PORT
 *   deno run -A tests/cluster/_transfer.ts send HOST PORT BYTES
 *
 * The receiver listens, prints "listening" on standard error, takes one connection, reads it to
 * its end and prints `{ bytes, seconds, bitsPerSecond }` as JSON on standard output, timed from
 * the first byte to the last: process start-up and connecting are not part of the link's rate.
 * The sender connects (retrying for 10 s while nothing listens) and writes BYTES bytes.
 *
 * @module
 */

const CHUNK = 64 * 1024;

async function receive(hostname: string, port: number): Promise<void> {
  const listener = Deno.listen({ hostname, port });
  console.error("listening");
  const conn = await listener.accept();
  listener.close();
  const buffer = new Uint8Array(CHUNK);
  let bytes = 0;
  let first = 0;
  let last = 0;
  while (true) {
    const read = await conn.read(buffer);
    if (read === null) break;
    last = performance.now();
    if (bytes === 0) first = last;
    bytes += read;
  }
  conn.close();
  const seconds = (last - first) / 1000;
  console.log(JSON.stringify({ bytes, seconds, bitsPerSecond: (8 * bytes) / seconds }));
}

async function send(hostname: string, port: number, total: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  let conn: Deno.Conn;
  while (true) {
    try {
      conn = await Deno.connect({ hostname, port });
      break;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const chunk = new Uint8Array(CHUNK).fill(0x5a);
  for (let sent = 0; sent < total;) {
    const piece = chunk.subarray(0, Math.min(CHUNK, total - sent));
    let written = 0;
    while (written < piece.length) written += await conn.write(piece.subarray(written));
    sent += piece.length;
  }
  conn.close();
}

if (import.meta.main) {
  const [mode, hostname, port, bytes] = Deno.args;
  if (mode === "receive" && hostname && port) await receive(hostname, Number(port));
  else if (mode === "send" && hostname && port && bytes) {
    await send(hostname, Number(port), Number(bytes));
  } else {
    console.error("usage: _transfer.ts receive HOST PORT | send HOST PORT BYTES");
    Deno.exit(2);
  }
}
