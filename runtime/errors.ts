/**
 * What every layer needs to say about a failure: the text of anything thrown
 * ({@linkcode messageOf}), and the mark of an error whose message already names the worker it is
 * about ({@linkcode WorkerNamedError}). It imports nothing, so the transport layer, data, models,
 * the workers, the coordinator, reports and the command line may all use it.
 *
 * @module
 */

/**
 * The message of an error, or the thrown value as text (a `throw "text"` or a rejected
 * promise's reason need not be an `Error`).
 *
 * @param error Anything thrown.
 * @returns `error.message` for an `Error`, else `String(error)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageOf } from "./errors.ts";
 *
 * assert.equal(messageOf(new RangeError("out of range")), "out of range");
 * assert.equal(messageOf("plain text"), "plain text");
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * An error whose message already begins with the worker it is about ("Worker 3 has no training
 * examples", "Worker 1's transport is closed"). A failing worker reports such a message as it is
 * and puts "Worker <rank>: " before any other; the class says which is which, so no one reads the
 * wording to decide. Subclasses carry their worker as a field (`DivergenceError`); the few
 * classes that cannot extend it (`PeerError`, part of the public API, and `EmptyShardError`, a
 * `RangeError`) are recognised by their own class beside it.
 *
 * Its `name` stays `"Error"`: it marks a message, it does not rename the error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerNamedError } from "./errors.ts";
 *
 * const error = new WorkerNamedError("Worker 2 has no training examples");
 * assert.ok(error instanceof Error && error.name === "Error");
 * ```
 */
export class WorkerNamedError extends Error {}
