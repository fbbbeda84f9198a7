/**
 * Byte counters per phase, shared by the transports.
 *
 * @module
 */

import { zeroBytes } from "../../dsl/traffic.ts";
import type { Phase, PhaseBytes, TrafficStats } from "./types.ts";

/** Sent and received byte counters of one transport. */
export class TrafficCounter {
  readonly #sent: PhaseBytes = zeroBytes();
  readonly #received: PhaseBytes = zeroBytes();

  /** Adds `bytes` written in `phase`. */
  sent(phase: Phase, bytes: number): void {
    this.#sent[phase] += bytes;
  }

  /** Adds `bytes` read in `phase`. */
  received(phase: Phase, bytes: number): void {
    this.#received[phase] += bytes;
  }

  /** A snapshot of the counters (later traffic does not change it). */
  snapshot(): TrafficStats {
    return { sent: { ...this.#sent }, received: { ...this.#received } };
  }
}
