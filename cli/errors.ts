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
