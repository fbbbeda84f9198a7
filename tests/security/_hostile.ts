/**
 * Hostile inputs for the security tests: a seeded random source, mutated frames and handshake
 * messages, and strangers that open connections to a live listener and misbehave in the ways
 * scanners, confused programs and attackers do (silence, an HTTP probe, a huge announced
 * frame, garbage, a handshake with the wrong secret, a byte at a time, half a header).
 *
 * @module
 */

import {
  clientHandshake,
  COORDINATOR,
  encodeOffer,
  encodeProof,
  handshakeFrame,
  RunKey,
} from "../../runtime/comm/handshake.ts";
import { encodeFrame, FRAME_HELLO } from "../../runtime/comm/wire.ts";
import { parseAddress } from "../../runtime/comm/tcp_address.ts";

/** A deterministic pseudo-random generator (mulberry32) with helpers. */
export class Random {
  #state: number;

  /** @param seed The seed. */
  constructor(seed: number) {
    this.#state = seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#state ^ (this.#state >>> 15), 1 | this.#state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }

  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/**
 * A mutated copy of `bytes`: bytes flipped, set to extremes, cut short, extended or spliced.
 *
 * @param random The random source.
 * @param bytes A valid message.
 * @returns A copy with one to four mutations.
 */
export function mutate(random: Random, bytes: Uint8Array): Uint8Array {
  let out = bytes.slice();
  const mutations = 1 + random.int(4);
  for (let m = 0; m < mutations; m++) {
    const at = out.byteLength === 0 ? 0 : random.int(out.byteLength);
    switch (random.int(6)) {
      case 0:
        if (out.byteLength > 0) out[at] = random.int(256);
        break;
      case 1:
        if (out.byteLength > 0) out[at] = random.pick([0, 1, 0x7f, 0x80, 0xff]);
        break;
      case 2:
        out = out.slice(0, at);
        break;
      case 3: {
        const extended = new Uint8Array(out.byteLength + 1 + random.int(64));
        extended.set(out);
        extended.set(random.bytes(extended.byteLength - out.byteLength), out.byteLength);
        out = extended;
        break;
      }
      case 4:
        // A length field set to something large (the first 4 bytes of a frame).
        if (out.byteLength >= 4) {
          new DataView(out.buffer).setUint32(0, random.pick([0xffffffff, 1 << 30, 513]), true);
        }
        break;
      default:
        if (out.byteLength > 1) out.copyWithin(at, random.int(out.byteLength));
    }
  }
  return out;
}

/** A valid offer frame with random fields. */
export function randomOfferFrame(random: Random): Uint8Array {
  return handshakeFrame(
    random.int(4),
    encodeOffer({
      channel: random.pick(["control", "mesh"] as const),
      rank: random.int(4),
      world: 1 + random.int(4),
      target: random.pick([COORDINATOR, 0, 1]),
      runId: random.bytes(16),
      planHash: random.bytes(32),
      nonce: random.bytes(32),
    }),
  );
}

/** How a stranger misbehaves. */
export type Stranger =
  | "silent"
  | "http"
  | "huge"
  | "garbage"
  | "wrong-secret"
  | "forged-proof"
  | "trickle"
  | "half-header"
  | "reset";

/** Every kind of stranger. */
export const STRANGERS: readonly Stranger[] = [
  "silent",
  "http",
  "huge",
  "garbage",
  "wrong-secret",
  "forged-proof",
  "trickle",
  "half-header",
  "reset",
];

/** What happened to one stranger. */
export interface StrangerOutcome {
  readonly kind: Stranger;
  /** Whether the listener closed the connection (rather than the stranger giving up). */
  readonly closedByListener: boolean;
  /** How long the connection lived, ms. */
  readonly ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads until the other side closes or `ms` pass; true when the other side closed. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  const drained = (async () => {
    const buffer = new Uint8Array(4096);
    try {
      while (await conn.read(buffer) !== null) { /* whatever the listener says */ }
    } catch { /* reset: closed as well */ }
    return true;
  })();
  try {
    return await Promise.race([drained, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One stranger: connects to `address`, misbehaves, and waits (at most `patienceMs`) for the
 * listener to close the connection.
 *
 * @param address `host:port` of the listener.
 * @param kind How to misbehave.
 * @param random The random source.
 * @param patienceMs How long to wait for the listener to close the connection.
 * @returns What happened.
 */
export async function stranger(
  address: string,
  kind: Stranger,
  random: Random,
  patienceMs: number,
): Promise<StrangerOutcome> {
  const start = performance.now();
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect(parseAddress(address));
  } catch {
    return { kind, closedByListener: true, ms: 0 }; // the listener is gone: nothing to attack
  }
  const write = (bytes: Uint8Array) => conn.write(bytes).catch(() => 0);
  let closed = false;
  try {
    switch (kind) {
      case "silent":
        break;
      case "http":
        await write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: gossamer\r\n\r\n"));
        break;
      case "huge": {
        const header = encodeFrame(
          { tag: 0, phase: "control", source: 0, kind: FRAME_HELLO },
          new Uint8Array(0),
        );
        new DataView(header.buffer).setUint32(0, 0xffff_fff0, true);
        await write(header);
        await write(random.bytes(1024));
        break;
      }
      case "garbage":
        await write(random.bytes(1 + random.int(2048)));
        break;
      case "wrong-secret": {
        const key = RunKey.fromSecret(random.bytes(32));
        await clientHandshake(conn, {
          channel: random.pick(["control", "mesh"] as const),
          rank: random.int(4),
          target: COORDINATOR,
          world: 4,
          runId: null,
          planHash: random.bytes(32),
          key,
          timeoutMs: patienceMs,
        }).catch(() => {});
        closed = true; // the client side gives up itself once the proof fails
        break;
      }
      case "forged-proof":
        await write(randomOfferFrame(random));
        await sleep(20);
        await write(handshakeFrame(0, encodeProof(random.bytes(32))));
        break;
      case "trickle": {
        const frame = randomOfferFrame(random);
        for (let i = 0; i < frame.byteLength && performance.now() - start < patienceMs; i++) {
          if (await write(frame.subarray(i, i + 1)) === 0) break;
          await sleep(50);
        }
        break;
      }
      case "half-header":
        await write(random.bytes(5));
        break;
      case "reset":
        closed = true;
        break;
    }
    if (!closed) closed = await closedWithin(conn, patienceMs);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
  return { kind, closedByListener: closed, ms: performance.now() - start };
}

/**
 * Many strangers against one listener, `concurrency` at a time, until `count` have run or
 * `until()` says stop.
 *
 * @param address `host:port` of the listener.
 * @param count How many strangers at most.
 * @param options Concurrency, patience, seed and the stop condition.
 * @returns Every stranger's outcome.
 */
export async function hammer(
  address: string,
  count: number,
  options: {
    readonly concurrency?: number;
    readonly patienceMs?: number;
    readonly seed?: number;
    readonly until?: () => boolean;
  } = {},
): Promise<StrangerOutcome[]> {
  const random = new Random(options.seed ?? 1);
  const outcomes: StrangerOutcome[] = [];
  let started = 0;
  const lane = async () => {
    while (started < count && !(options.until?.() ?? false)) {
      const kind = STRANGERS[started % STRANGERS.length]!;
      started++;
      outcomes.push(await stranger(address, kind, random, options.patienceMs ?? 3000));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, lane));
  return outcomes;
}

/** What a {@linkcode flood} did. */
export interface Flood {
  /** Resolves once the flood has opened `count` connections. */
  reached(count: number): Promise<void>;
  /** Stops the flood and closes every connection it holds; resolves with how many it opened. */
  stop(): Promise<number>;
}

/**
 * A connect flood: `loops` loops, each opening connections to `address` as fast as it can and
 * sending nothing on them, holding the newest `hold` open (a listener must evict them), until
 * stopped. This is the attack of issue 20, item 1 (about 18,000 connections a second there).
 *
 * @param address `host:port` of the listener.
 * @param options How many loops run at once and how many connections each holds.
 * @returns The flood, running.
 */
export function flood(
  address: string,
  options: { readonly loops?: number; readonly hold?: number } = {},
): Flood {
  const target = parseAddress(address);
  const hold = options.hold ?? 128;
  let stopped = false;
  let opened = 0;
  const loop = async () => {
    const held: Deno.Conn[] = [];
    while (!stopped) {
      try {
        held.push(await Deno.connect(target));
        opened++;
      } catch {
        await sleep(1); // the backlog is full, or the listener is gone: try again
        continue;
      }
      if (held.length > hold) closeQuietly(held.shift()!);
    }
    held.forEach(closeQuietly);
  };
  const loops = Array.from({ length: options.loops ?? 4 }, loop);
  return {
    async reached(count: number) {
      while (opened < count && !stopped) await sleep(5);
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return opened;
    },
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed by the listener's side already */ }
}

/**
 * The TCP ports a process and its descendants listen on, as `ss -ltp` shows an attacker on the
 * host: the listening sockets of `/proc/net/tcp` whose inodes are among the open files of `pid`
 * or of a process below it (a CLI run's thread workers listen in its process, its process
 * workers in its children), so no other program's listeners, and no other test's, are touched.
 * Linux only.
 *
 * @param pid The process at the top.
 * @returns The ports.
 */
export function listeningPortsOf(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const each of [pid, ...descendantsOf(pid)]) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(`/proc/${each}/fd`)];
    } catch {
      continue; // ended meanwhile
    }
    for (const entry of entries) {
      try {
        const link = Deno.readLinkSync(`/proc/${each}/fd/${entry.name}`);
        const match = /^socket:\[(\d+)\]$/.exec(link);
        if (match !== null) inodes.add(match[1]!);
      } catch { /* closed meanwhile */ }
    }
  }
  const ports = new Set<number>();
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local address, state 0A (LISTEN), inode.
    if (fields.length > 9 && fields[3] === "0A" && inodes.has(fields[9]!)) {
      ports.add(parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

/** The processes below `pid`, from each process's parent in `/proc/<pid>/stat`. */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // pid (comm) state ppid …: the command may hold spaces and parentheses, so split after it.
      parents.set(Number(entry.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* ended meanwhile */ }
  }
  const below: number[] = [];
  let level = [pid];
  while (level.length > 0) {
    level = [...parents].filter(([, parent]) => level.includes(parent)).map(([child]) => child);
    below.push(...level);
  }
  return below;
}
