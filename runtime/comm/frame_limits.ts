/**
 * How large a frame a peer of a run may send, and how much it may leave queued, derived from
 * the model's size: the limits are what the plan's algorithms can need plus headroom, so a
 * member that announces more is broken (and refused) rather than trusted with gigabytes.
 *
 * The largest mesh messages are: a segment of a segmented collective (all-reduce, broadcast;
 * at most the segment size), a whole parameter vector to a neighbour (gossip and its kin, 4d
 * bytes, push-sum's weight included 4(d+1)), a CADA upload (4d), and a compressed code in an
 * all-gather, which stays under an index and a value per parameter (8d; QSGD or DQ-SGD with
 * one-value buckets come closest). The limit allows twice that, 16 bytes per parameter plus
 * one, and {@linkcode FRAME_HEADROOM_BYTES} more.
 *
 * @module
 */

import { DEFAULT_SEGMENT_BYTES } from "./communicator.ts";
import type { MailboxLimits } from "./_mailbox.ts";
import { MAX_FRAME_PAYLOAD } from "./wire.ts";

/** Bytes added to the largest message a plan can send. */
export const FRAME_HEADROOM_BYTES = 64 * 1024;

/** How many of the largest frames one peer may leave queued, not yet asked for. */
export const QUEUED_FRAMES = 64;

/** How many collectives a peer's tags may be ahead of or behind this rank's. */
export const TAG_WINDOW = 1 << 16;

/**
 * The largest mesh payload a run of a model of `parameters` values can send.
 *
 * @param parameters The model's parameter count `d`.
 * @param segmentBytes The segment size of the segmented collectives.
 * @returns Bytes, at most {@linkcode MAX_FRAME_PAYLOAD}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meshPayloadLimit } from "./frame_limits.ts";
 * // A tiny model: a segment of 1 MiB is the largest message.
 * assert.equal(meshPayloadLimit(3), 1024 * 1024 + 64 * 1024);
 * ```
 */
export function meshPayloadLimit(
  parameters: number,
  segmentBytes: number = DEFAULT_SEGMENT_BYTES,
): number {
  const largest = Math.max(segmentBytes, 16 * (parameters + 1));
  return Math.min(MAX_FRAME_PAYLOAD, largest + FRAME_HEADROOM_BYTES);
}

/**
 * The frame limit and queue bounds of a mesh for a model of `parameters` values.
 *
 * @param parameters The model's parameter count.
 * @param segmentBytes The segment size of the segmented collectives.
 * @returns The largest payload, and the bounds on what a peer may leave queued.
 */
export function meshLimits(
  parameters: number,
  segmentBytes: number = DEFAULT_SEGMENT_BYTES,
): { readonly maxFramePayload: number; readonly limits: MailboxLimits } {
  const maxFramePayload = meshPayloadLimit(parameters, segmentBytes);
  return {
    maxFramePayload,
    limits: { maxQueuedBytes: QUEUED_FRAMES * maxFramePayload, tagWindow: TAG_WINDOW },
  };
}
