/**
 * A worker joining its coordinator: connect to the rendezvous, retrying with exponential
 * backoff while nothing listens there yet (a worker may be started before its coordinator, as
 * with torchrun), then run the authenticated handshake of the control channel.
 *
 * Failures to connect are retried up to a deadline, and so is a handshake that was interrupted
 * (the connection closed, broke or timed out before either side decided anything): that is what
 * a flood of strangers at the rendezvous does to a member, whose connection is closed to make
 * room (`pending_handshakes.ts`), and a flood must slow a run, never end it. The first failure
 * of each kind is logged once, and the deadline ends with a message naming the address and the
 * last error. A failed TLS handshake or a gossamer handshake that was decided is not retried:
 * the coordinator answered, and it said no.
 *
 * @module
 */

import {
  clientHandshake,
  COORDINATOR,
  HandshakeError,
  RunKey,
  type SessionKeys,
  VERDICT,
} from "../comm/handshake.ts";
import { closeQuietly, dial, TlsHandshakeError, type TlsPem } from "../comm/net.ts";
import { messageOf } from "../errors.ts";

/** How long a worker keeps trying to reach its coordinator by default: 60 s. */
export const DEFAULT_RENDEZVOUS_TIMEOUT_MS = 60_000;

/** The first pause between attempts; it doubles up to {@linkcode MAX_BACKOFF_MS}. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;

/** Options of {@linkcode joinCoordinator}. */
export interface JoinOptions {
  readonly rank: number;
  readonly world: number;
  /** The coordinator's `host:port`. */
  readonly rendezvous: string;
  /** The run's secret, as key bytes. */
  readonly secret: Uint8Array;
  /** The run id, if known (local launches); else learnt from the coordinator. */
  readonly runId: Uint8Array | null;
  /** The plan's SHA-256. */
  readonly planHash: Uint8Array;
  /** TLS: the CA certificates that the coordinator's certificate is checked against. */
  readonly tls: TlsPem | null;
  /** How long the handshake may take, ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /** How long to keep retrying to connect, ms (default 60 000; 0: try once). */
  readonly rendezvousTimeoutMs?: number;
  /** Where the one line about retrying goes (default: standard error). */
  readonly log?: (line: string) => void;
}

/** A worker's authenticated control connection. */
export interface Joined {
  readonly conn: Deno.Conn;
  /** The run id, learnt from the coordinator when it was not known. */
  readonly runId: Uint8Array;
  /** Bytes read past the handshake: the start of the coordinator's messages. */
  readonly leftover: Uint8Array;
  /** The keys that authenticate every later frame (`control.ts`). */
  readonly session: SessionKeys;
}

/**
 * Connects to the coordinator and authenticates both ways.
 *
 * @param options Rank, world, address, credentials, timeouts.
 * @returns The connection, the run id and the bytes read past the handshake.
 * @throws {Error} "Worker r cannot reach the coordinator at host:port within N s: …" at the
 * deadline; "Worker r could not authenticate the coordinator …" when it fails its proof;
 * the coordinator's reason when it refuses this worker (another plan, a rank taken).
 */
export async function joinCoordinator(options: JoinOptions): Promise<Joined> {
  const { rank, rendezvous } = options;
  const retry = new Retry(options);
  const key = RunKey.fromSecret(options.secret);
  while (true) {
    const conn = await connectWithBackoff(options, retry);
    try {
      const { runId, leftover, session } = await clientHandshake(conn, {
        channel: "control",
        rank,
        target: COORDINATOR,
        world: options.world,
        runId: options.runId,
        planHash: options.planHash,
        key,
        ...(options.handshakeTimeoutMs === undefined
          ? {}
          : { timeoutMs: options.handshakeTimeoutMs }),
      });
      return { conn, runId, leftover, session };
    } catch (error) {
      closeQuietly(conn);
      if (error instanceof HandshakeError && error.member) {
        throw new Error(refusal(error.message, rank, rendezvous));
      }
      if (error instanceof HandshakeError && error.status === VERDICT.secret) {
        throw new Error(
          `Worker ${rank} was refused by the coordinator at ${rendezvous}: its proof of the run secret failed (the two hold different secrets: another run, or a mistyped secret)`,
        );
      }
      const message = `Worker ${rank} could not authenticate the coordinator at ${rendezvous}: it ${
        messageOf(error)
      }`;
      if (!(error instanceof HandshakeError && error.interrupted) || retry.left() <= 0) {
        throw new Error(message);
      }
      retry.once(
        "handshake",
        `Worker ${rank}: the handshake with the coordinator at ${rendezvous} was interrupted (it ${
          messageOf(error)
        }); retrying for up to ${seconds(retry.limitMs)}`,
      );
      await retry.pause();
    }
  }
}

/**
 * The message of a worker the coordinator refused. The verdict is wire data, a status and a
 * reason; the status does not tell a rank out of range from a rank taken, and only the reason
 * says whether it names this worker already ("Worker 3 was started with a different plan …")
 * or not ("Two workers joined as rank 3 …"), so that it is introduced only when it does not.
 */
function refusal(reason: string, rank: number, rendezvous: string): string {
  return reason.startsWith(`Worker ${rank} `)
    ? reason
    : `Worker ${rank} was refused by the coordinator at ${rendezvous}: ${reason}`;
}

/** The deadline, the backoff and the lines logged once, shared by every attempt to join. */
class Retry {
  readonly limitMs: number;
  readonly #deadline: number;
  readonly #log: (line: string) => void;
  readonly #logged = new Set<string>();
  #backoff = FIRST_BACKOFF_MS;

  constructor(options: JoinOptions) {
    this.limitMs = options.rendezvousTimeoutMs ?? DEFAULT_RENDEZVOUS_TIMEOUT_MS;
    this.#deadline = performance.now() + this.limitMs;
    this.#log = options.log ?? ((line: string) => console.error(line));
  }

  /** Milliseconds left before the deadline. */
  left(): number {
    return this.#deadline - performance.now();
  }

  /** Logs `line` the first time something of this `kind` happens. */
  once(kind: string, line: string): void {
    if (this.#logged.has(kind)) return;
    this.#logged.add(kind);
    this.#log(line);
  }

  /** Waits the next backoff (with jitter, never past the deadline); the next one doubles. */
  async pause(): Promise<void> {
    const pause = Math.max(0, Math.min(this.left(), this.#backoff * (0.8 + 0.4 * Math.random())));
    await new Promise((resolve) => setTimeout(resolve, pause));
    this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff * 2);
  }
}

/** Dials until a connection opens or the deadline passes. */
async function connectWithBackoff(options: JoinOptions, retry: Retry): Promise<Deno.Conn> {
  const { rank, rendezvous } = options;
  while (true) {
    try {
      return await dial(rendezvous, options.tls, options.handshakeTimeoutMs);
    } catch (error) {
      const message = messageOf(error);
      if (error instanceof TlsHandshakeError && !error.interrupted) {
        throw new Error(`Worker ${rank} cannot reach the coordinator at ${rendezvous}: ${message}`);
      }
      if (retry.left() <= 0) {
        throw new Error(
          `Worker ${rank} cannot reach the coordinator at ${rendezvous}${
            retry.limitMs > 0 ? ` within ${seconds(retry.limitMs)}` : ""
          }: ${message}`,
        );
      }
      retry.once(
        "connect",
        `Worker ${rank}: the coordinator at ${rendezvous} is not reachable yet (${message}); retrying for up to ${
          seconds(retry.limitMs)
        }`,
      );
      await retry.pause();
    }
  }
}

/** A duration in seconds, for messages. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
