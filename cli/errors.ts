/**
 * Errors the command line reports as a plain message with exit code 1: bad input, never a bug.
 *
 * @module
 */

/** A user error: the message names the input and what is wrong. */
export class CliInputError extends Error {
  /** @param message What is wrong, naming the input. */
  constructor(message: string) {
    super(message);
    this.name = "CliInputError";
  }
}

/** A command that failed for a reason outside the user's input (a worker died, a run failed). */
export class CommandFailedError extends Error {
  /** @param message What failed, naming where. */
  constructor(message: string) {
    super(message);
    this.name = "CommandFailedError";
  }
}
