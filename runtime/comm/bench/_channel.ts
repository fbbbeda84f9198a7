/**
 * What both sides of the all-reduce benchmark use to talk: a queue of messages handed out in
 * order, and the lines of a stream (a process rank's messages are JSON lines on its standard
 * input and output).
 *
 * @module
 */

/** Items queued until asked for, in order. */
export class Queue<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | null = null;

  /** Queues `item`, waking a waiting {@linkcode Queue.next}. */
  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
    this.#wake = null;
  }

  /** The next item, once there is one. */
  async next(): Promise<T> {
    while (this.#items.length === 0) await new Promise<void>((wake) => this.#wake = wake);
    return this.#items.shift()!;
  }
}

/**
 * The lines of a UTF-8 stream, without their newlines (a last line without one is dropped: it
 * was cut off).
 */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
}
