/**
 * Receiving straight into the caller's memory. A collective that knows where its next messages
 * belong (the all-gather half of the ring, which lands every segment in the result vector) posts
 * those places in order; a transport that can, reads each payload into its place instead of into
 * a buffer of its own that the collective would copy from. On TCP the kernel then copies the
 * bytes from the socket into the result once, and no second copy follows.
 *
 * Like recycling (`_buffer_pool.ts`), this is an optional capability of a transport, not part of
 * the {@linkcode Transport} contract: without it the messages arrive in ordinary buffers, and the
 * collective copies them as before.
 *
 * @module
 */

import type { Transport } from "./types.ts";

/** A transport that can read payloads into posted places. */
interface ReceivingInto {
  /**
   * The next messages from `from` with `tag` are read into `targets`, the k-th message into the
   * k-th target when its length is the target's (else into an ordinary buffer).
   *
   * @returns Withdraws the targets not yet used.
   */
  receiveInto(from: number, tag: number, targets: readonly Uint8Array[]): () => void;
}

/**
 * Posts the places of the next messages from `from` with `tag`, in order, if the transport can
 * read into them. Only post for a tag whose messages cannot have started to arrive yet, or the
 * k-th message would not meet the k-th place.
 *
 * @param transport The transport.
 * @param from The sending rank.
 * @param tag The messages' tag.
 * @param targets Where each message belongs, in the order they are sent (4-byte aligned).
 * @returns Withdraws the places not used (call it when the collective ends, however it ends).
 */
export function receiveInto(
  transport: Transport,
  from: number,
  tag: number,
  targets: readonly Uint8Array[],
): () => void {
  const capable = transport as Transport & Partial<ReceivingInto>;
  return capable.receiveInto?.(from, tag, targets) ?? (() => {});
}

/**
 * Whether a received payload is the place that was posted for it (it then needs no copy, and is
 * not the transport's to recycle).
 */
export function isPlaced(payload: Uint8Array, place: Uint8Array): boolean {
  return payload.buffer === place.buffer && payload.byteOffset === place.byteOffset &&
    payload.byteLength === place.byteLength;
}

/**
 * Posted places by sender and tag, for a transport's read side: each message of the key takes
 * the next place.
 */
export class PostedPlaces {
  readonly #places = new Map<number, Uint8Array[]>();

  /** Posts places for (from, tag); returns the withdrawal. */
  post(from: number, tag: number, targets: readonly Uint8Array[]): () => void {
    if (targets.length === 0) return () => {};
    const key = placeKey(from, tag);
    const list = [...targets];
    this.#places.set(key, list);
    return () => {
      if (this.#places.get(key) === list) this.#places.delete(key);
    };
  }

  /**
   * The place for the next message from (from, tag) of `bytes` bytes, or null: a message always
   * takes its turn's place, and gets it only if the lengths agree.
   */
  take(from: number, tag: number, bytes: number): Uint8Array | null {
    const key = placeKey(from, tag);
    const list = this.#places.get(key);
    if (list === undefined) return null;
    const place = list.shift()!;
    if (list.length === 0) this.#places.delete(key);
    return place.byteLength === bytes ? place : null;
  }
}

/** One number for (sender, tag): senders fit 16 bits and tags 32. */
function placeKey(from: number, tag: number): number {
  return from * 2 ** 32 + tag;
}
